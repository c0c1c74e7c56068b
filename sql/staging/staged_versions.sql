-- The checked rows of a customers source that pass every check and repeat no kept version: inserted into
-- staging.customers as versions of their records, each valid from its version time (_version_times).
-- Grain: one row per staged raw row (source, _file, _row). Key: source, _file, _row. Parameters: $source.
-- valid_to stays null here: staging/version_validity sets it to the next version's valid_from.
with checked as (
    select * from _checked
),

versions as (
    select * from _version_times
),

final as (
    select
        $source as source,
        checked.* exclude (_reason, _id, _duplicate_of),
        versions.version_time as valid_from
    from checked
    join versions
        on versions._file = checked._file
        and versions._row = checked._row
    where checked._reason is null and checked._duplicate_of is null
)

select * from final

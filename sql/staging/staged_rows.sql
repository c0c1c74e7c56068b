-- The checked rows of one source that pass every check and repeat no kept row: inserted into staging.<kind>.
-- Grain: one row per staged raw row (source, _file, _row). Key: source, _file, _row. Parameters: $source.
with checked as (
    select * from _checked
),

final as (
    select
        $source as source,
        * exclude (_reason, _id, _duplicate_of)
    from checked
    where _reason is null and _duplicate_of is null
)

select * from final

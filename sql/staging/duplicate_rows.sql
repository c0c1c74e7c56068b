-- The checked rows of one source dropped as another copy of a kept row: appended to audit.duplicates.
-- Grain: one row per dropped raw row (file, row_number). Key: source, file, row_number.
-- Parameters: $run_id, $source.
with checked as (
    select * from _checked
),

final as (
    select
        $run_id as run_id,
        $source as source,
        _file as file,
        _row as row_number,
        _id as id,
        _duplicate_of.file as kept_file,
        _duplicate_of.row as kept_row_number
    from checked
    where _duplicate_of is not null and (_reason is null or starts_with(_reason, 'no customer reference'))
)

select * from final

-- How many of the raw rows checked (as sql/staging/checked.sql reads them) each file has that the source's
-- `where` is not true of: read, kept in raw, not staged.
-- Grain: one row per file with such rows. Key: _file. Parameters: $run_id, $all_rows (as checked.sql).
-- Template: raw_rows names the raw rows, kept the source's `where` (tasks.extract.staging.kept_sql).
with raw_rows as (
    select * from {{raw_rows}}
    where ($all_rows or _run_id = $run_id)
        and not {{kept}}
),

final as (
    select
        _file,
        count(*) as filtered
    from raw_rows
    group by _file
)

select * from final

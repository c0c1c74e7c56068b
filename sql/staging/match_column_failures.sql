-- Preflight: the rows of one source's sampled raw rows where a match column's expression fails although a
-- column it reads has a value (a date in another layout than its strptime, a text that is no number).
-- Grain: one row per failing raw row. Key: _file, _row. Parameters: none.
-- {{raw_table}}: raw.<source>; {{failed}}: the failure condition (tasks.shared.expressions.failed_sql); {{kept}}:
-- the source's where (tasks.extract.staging.kept_sql): the rows it leaves out are no customer records.
with raw_rows as (
    select * from {{raw_table}}
    where {{kept}}
),

final as (
    select
        _file,
        _row
    from raw_rows
    where {{failed}}
)

select * from final
order by _file, _row

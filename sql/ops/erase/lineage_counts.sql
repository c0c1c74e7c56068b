-- Extract: of one table's rows whose lineage is in _erase_lineage (an erased person's, read again), how many
-- per source file, before they are dropped (tasks/extract/erased.py: the load's counts say them erased).
-- Grain: one row per (source, file). Parameters: none. Reads _erase_lineage (ops/erase_lineage).
-- Filled in as sql/ops/erase/lineage_rows.sql: target, and its lineage columns source, file and row.
select
    target.{{source}} as source,
    target.{{file}} as file,
    count(distinct target.{{row}}) as rows_erased
from {{target}} as target
where exists (
    select 1
    from _erase_lineage as lineage
    where lineage.source = target.{{source}}
        and lineage.file = target.{{file}}
        and lineage.row = target.{{row}}
)
group by all

-- Erase: delete from one table the rows whose lineage (source, file, row) is in _erase_lineage; returns the count.
-- Grain: one deleted row per matching row of the table. Parameters: none. Reads _erase_lineage (ops/erase_lineage).
-- Filled in (tasks/shared/lineage.py LINEAGE_COLUMNS): target (the table), and its lineage columns
-- source (_source or source), file (_file or file) and row (_row or row_number).
delete from {{target}} as target
where exists (
    select 1
    from _erase_lineage as lineage
    where lineage.source = target.{{source}}
        and lineage.file = target.{{file}}
        and lineage.row = target.{{row}}
)

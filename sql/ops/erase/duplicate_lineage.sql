-- Erase: the raw rows extract dropped as copies (audit.duplicates) of a row in _erase_lineage: their lineage.
-- Grain: one row per dropped copy (source, file, row). Parameters: none. Reads _erase_lineage (ops/erase_lineage).
-- A copy has the same id and values as the row kept, so it belongs to the same person.
with duplicates as (
    select * from audit.duplicates
),

lineage as (
    select * from _erase_lineage
),

final as (
    select distinct
        duplicates.source,
        duplicates.file,
        duplicates.row_number as row
    from duplicates
    join lineage
        on lineage.source = duplicates.source
        and lineage.file = duplicates.kept_file
        and lineage.row = duplicates.kept_row_number
)

select * from final

-- Erase: delete the duplicate rows recorded for the person's staged rows (dropped or kept copy).
-- Grain: one deleted row per matching row of audit.duplicates. Parameters: none.
-- Reads _erase_lineage (ops/erase_lineage). Known defect (issue 16): the unqualified source and file
-- resolve to _erase_lineage's own columns, so this matches more rows than the person's. Kept as it is.
delete from audit.duplicates
where exists (
    select 1 from _erase_lineage as l
    where l.source = source
        and (
            (l.file = file and l.row = row_number)
            or (l.file = kept_file and l.row = kept_row_number)
        )
)

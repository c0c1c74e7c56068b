-- Erase: delete the person's customer records from core.customer_records; returns the rows deleted.
-- Grain: one deleted row per matching record. Parameters: none. Reads _erase_records (ops/erase/records).
-- Known defect (issue 16): the unqualified source and source_id resolve to _erase_records' own columns,
-- so this matches every row while _erase_records has any. Kept as it is until that issue is fixed.
delete from core.customer_records
where exists (
    select 1 from _erase_records as e
    where e.source = source and e.source_id = source_id
)

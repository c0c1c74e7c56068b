-- Erase: delete from one table the rows of the person's customer records (in _erase_records); returns the count.
-- Grain: one deleted row per matching row of the table. Parameters: none. Reads _erase_records (ops/erase/records).
-- Filled in: target (the table) and its record columns source and id (source and source_id, or
-- record_source and record_id).
delete from {{target}} as target
where exists (
    select 1
    from _erase_records as records
    where records.source = target.{{source}}
        and records.source_id = target.{{id}}
)

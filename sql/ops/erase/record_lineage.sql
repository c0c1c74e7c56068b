-- Erase: the staged rows of the person's customer records, by lineage (inserted into _erase_lineage).
-- Grain: one row per (source, file, row) of staging.customers. Parameters: none.
-- Reads _erase_records (ops/erase/records).
with customers as (
    select * from staging.customers
),

records as (
    select * from _erase_records
),

final as (
    select distinct
        customers.source,
        customers._file as file,
        customers._row as row
    from customers
    join records
        on records.source = customers.source
        and records.source_id = customers.source_id
)

select * from final

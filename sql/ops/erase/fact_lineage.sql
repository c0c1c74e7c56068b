-- Erase: the staged rows of the facts (transactions, events, feedback) pointing at the person's customer records.
-- Grain: one row per (source, file, row) of the fact table. Parameters: none.
-- Filled in: facts (core.<fact kind>). Reads _erase_records (ops/erase/records).
with facts as (
    select * from {{facts}}
),

records as (
    select * from _erase_records
),

final as (
    select distinct
        facts.source,
        facts._file as file,
        facts._row as row
    from facts
    join records
        on records.source = facts.record_source
        and records.source_id = facts.record_id
)

select * from final

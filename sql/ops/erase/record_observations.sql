-- Erase: delete the observations of the person's customer records from core.record_observations.
-- Grain: one deleted row per matching observation. Parameters: none. Reads _erase_records (ops/erase/records).
delete from core.record_observations
where exists (
    select 1 from _erase_records as e
    where e.source = record_source
        and e.source_id = record_id
)

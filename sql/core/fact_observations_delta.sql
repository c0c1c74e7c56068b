-- The observation groups of the staged facts of some files: those core.fact_observations folds in this run.
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id).
-- Parameters: $files: the new files' names (a cheap first filter, applied to the staged rows before the
-- fact views join their lookups; the semi join on source and file decides), or null for every file (a
-- rebuild, where every file is new).
-- Input: _fact_observation_file_changes (ops/file_changes.sql): the new files are folded;
-- the core fact views (core/facts.sql: the record and normalized keys of each staged row).
with files as (
    select source, file
    from _fact_observation_file_changes
    where change = 'new'
),

fact_rows as (
    select record_source, record_id, email_norm, phone_norm, device_norm as device_id, ts as seen_ts, source, _file
    from core.transactions
    where $files::varchar[] is null or list_contains($files::varchar[], _file)
    union all
    select record_source, record_id, email_norm, phone_norm, device_norm as device_id, ts as seen_ts, source, _file
    from core.events
    where $files::varchar[] is null or list_contains($files::varchar[], _file)
    union all
    select record_source, record_id, email_norm, phone_norm, device_norm as device_id, ts as seen_ts, source, _file
    from core.feedback
    where $files::varchar[] is null or list_contains($files::varchar[], _file)
),

loaded as (
    select fact_rows.*
    from fact_rows
    semi join files
        on files.source = fact_rows.source
        and files.file = fact_rows._file
),

final as (
    select
        record_source,
        record_id,
        email_norm,
        phone_norm,
        device_id,
        case when bool_or(seen_ts is null) then null else min(seen_ts) end as first_seen
    from loaded
    group by record_source, record_id, email_norm, phone_norm, device_id
)

select * from final

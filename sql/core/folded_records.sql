-- The records whose fact observation groups this run folded into core.fact_observations (from the files
-- new since the last run): their rows of core.record_observations can differ from the last run's
-- (core/records_dirty.sql). Grain: one row per record (record_source, record_id). Parameters: none.
-- Input: _fact_observations_delta (core/fact_observations_delta.sql).
with delta as (
    select * from _fact_observations_delta
),

final as (
    select distinct
        record_source,
        record_id
    from delta
)

select * from final

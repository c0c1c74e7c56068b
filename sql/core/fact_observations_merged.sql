-- The groups of core.fact_observations that this run's files touch, as they are with those files folded in:
-- the held row and the new rows of each group combined (the earliest first_seen, null when one is null).
-- Grain: one row per (record_source, record_id, email_norm, phone_norm, device_id). Parameters: none.
-- Input: _fact_observations_delta (core/fact_observations_delta.sql).
with delta as (
    select * from _fact_observations_delta
),

held as (
    select * from core.fact_observations
),

touched as (
    select held.*
    from held
    semi join delta
        on held.record_source = delta.record_source
        and held.record_id = delta.record_id
        and held.email_norm is not distinct from delta.email_norm
        and held.phone_norm is not distinct from delta.phone_norm
        and held.device_id is not distinct from delta.device_id
),

combined as (
    select * from touched
    union all
    select * from delta
),

final as (
    select
        record_source,
        record_id,
        email_norm,
        phone_norm,
        device_id,
        case when bool_or(first_seen is null) then null else min(first_seen) end as first_seen
    from combined
    group by record_source, record_id, email_norm, phone_norm, device_id
)

select * from final

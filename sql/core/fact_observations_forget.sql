-- Statement: delete the groups of core.fact_observations that this run's files touch, before their merged
-- rows (core/fact_observations_merged.sql) are inserted.
-- Grain: deletes one row of core.fact_observations per group in _fact_observations_delta. Parameters: none.
delete from core.fact_observations as held
using _fact_observations_delta as delta
where held.record_source = delta.record_source
    and held.record_id = delta.record_id
    and held.email_norm is not distinct from delta.email_norm
    and held.phone_norm is not distinct from delta.phone_norm
    and held.device_id is not distinct from delta.device_id

-- The customers whose golden record must be recomputed: those with an identity map row that changed
-- (added, removed or different: merges, splits, new records, first_seen), and those with a customer record
-- or a record observation that changed since the last run (the *_before tables: the last run's tables,
-- kept by tasks/dedupe/golden.py). Every other customer's inputs are the same rows: its golden record is.
-- Each table is compared with its last version row by row on its key (a full join: a row added, removed or
-- with another value differs from its counterpart; keys are unique, a null one never matches and counts
-- as changed), cheaper than comparing whole rows as sets.
-- Grain: one row per customer_id (of the new map, or of the old one: a customer merged away). Key: customer_id.
-- Parameters: none.
with identity as (
    select * from core.identity_map
),

identity_before as (
    select * from core.identity_map_before
),

records as (
    select * from core.customer_records
),

records_before as (
    select * from core.customer_records_before
),

observations as (
    select * from core.record_observations
),

observations_before as (
    select * from core.record_observations_before
),

changed_identity as (
    -- a row moved to another customer: both customers
    select unnest([identity.customer_id, identity_before.customer_id]) as customer_id
    from identity
    full join identity_before
        on identity.source = identity_before.source
        and identity.source_id = identity_before.source_id
    where identity is distinct from identity_before
),

changed_records as (
    select
        coalesce(records.source, records_before.source) as source,
        coalesce(records.source_id, records_before.source_id) as source_id
    from records
    full join records_before
        on records.source = records_before.source
        and records.source_id = records_before.source_id
    where records is distinct from records_before
),

changed_observations as (
    select
        coalesce(observations.record_source, observations_before.record_source) as source,
        coalesce(observations.record_id, observations_before.record_id) as source_id
    from observations
    full join observations_before
        on observations.record_source = observations_before.record_source
        and observations.record_id = observations_before.record_id
        and observations.email_norm is not distinct from observations_before.email_norm
        and observations.phone_norm is not distinct from observations_before.phone_norm
        and observations.device_id is not distinct from observations_before.device_id
    where observations is distinct from observations_before
),

changed as (
    select * from changed_records
    union
    select * from changed_observations
),

final as (
    select customer_id from changed_identity
    where customer_id is not null
    union
    select identity.customer_id
    from identity
    join changed
        on identity.source = changed.source
        and identity.source_id = changed.source_id
)

select * from final

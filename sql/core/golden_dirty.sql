-- The customers whose golden record must be recomputed: those with an identity map row that changed
-- (added, removed or different: merges, splits, new records, first_seen), and those with a customer record
-- or a record observation that changed since the last run (the *_before tables: the last run's tables,
-- kept by tasks/dedupe/golden.py). Every other customer's inputs are the same rows: its golden record is.
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
    (select * from identity except all select * from identity_before)
    union all
    (select * from identity_before except all select * from identity)
),

changed_records as (
    select
        source,
        source_id
    from (
        (select * from records except all select * from records_before)
        union all
        (select * from records_before except all select * from records)
    )
),

changed_observations as (
    select
        record_source as source,
        record_id as source_id
    from (
        (select * from observations except all select * from observations_before)
        union all
        (select * from observations_before except all select * from observations)
    )
),

changed as (
    select * from changed_records
    union
    select * from changed_observations
),

final as (
    select customer_id from changed_identity
    union
    select identity.customer_id
    from identity
    join changed
        on identity.source = changed.source
        and identity.source_id = changed.source_id
)

select * from final

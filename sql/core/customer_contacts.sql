-- The contact keys each customer was seen with in any of its records (customer records and the
-- records of transactions, events and feedback), and which record each came from: the golden
-- record's device id, and its email and phone when no customer record has one.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
-- The dedupe task builds it into the temp table customer_contacts (see core/customers.sql).
-- Input: _golden_identity, core.identity_map or its rows of the customers to recompute (tasks/dedupe/golden.py).
with identity as (
    select * from _golden_identity
),

final as (
    select
        identity.customer_id,
        max(observations.email_norm) as email_norm,
        max(observations.phone_norm) as phone_norm,
        max(observations.device_id) as device_id,
        arg_max(
            observations.record_source || ':' || observations.record_id,
            struct_pack(observations.email_norm, observations.record_source, observations.record_id)
        ) filter (where observations.email_norm is not null) as email_source,
        arg_max(
            observations.record_source || ':' || observations.record_id,
            struct_pack(observations.phone_norm, observations.record_source, observations.record_id)
        ) filter (where observations.phone_norm is not null) as phone_source,
        arg_max(
            observations.record_source || ':' || observations.record_id,
            struct_pack(observations.device_id, observations.record_source, observations.record_id)
        ) filter (where observations.device_id is not null) as device_source
    from core.record_observations as observations
    join identity
        on identity.source = observations.record_source
        and identity.source_id = observations.record_id
    group by identity.customer_id
)

select * from final

-- Erase: the customer records of the person: every record mapped to one of their ids, by the latest
-- identity map or by the state of the latest forward dedupe run (they differ after a backfill).
-- Grain: one row per (source, source_id). Key: source, source_id. Parameters: $customer_ids (list of varchar).
with identity_map as (
    select * from core.identity_map
),

identity_state as (
    select * from core.identity_state
),

mapped as (
    select
        identity_map.source,
        identity_map.source_id
    from identity_map
    where identity_map.customer_id in (select unnest($customer_ids))
    union
    select
        identity_state.source,
        identity_state.source_id
    from identity_state
    where identity_state.customer_id in (select unnest($customer_ids))
),

final as (
    select
        mapped.source,
        mapped.source_id
    from mapped
)

select * from final

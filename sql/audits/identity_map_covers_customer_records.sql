-- Audit: a customer record seen by the end of $as_of that is mapped to no customer.
-- Grain: one row per offending (source, source_id). Parameters: $as_of.
with records as (
    select * from core.customer_records
),

identity as (
    select * from core.identity_map
),

final as (
    select
        records.source,
        records.source_id,
        records.seen_ts
    from records
    anti join identity
        on identity.source = records.source
        and identity.source_id = records.source_id
    where records.seen_ts is null
        or records.seen_ts < cast($as_of + 1 as timestamptz)
)

select * from final

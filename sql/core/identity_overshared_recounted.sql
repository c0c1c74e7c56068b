-- The recounted key values (graph/key_recount.sql) above the limit, into core.identity_overshared.
-- Grain: one row per (key, value). Key: key, value. Parameters: $max_key_records.
with recount as (
    select * from _key_recount
),

final as (
    select
        key,
        value,
        records
    from recount
    where records > $max_key_records
)

select * from final

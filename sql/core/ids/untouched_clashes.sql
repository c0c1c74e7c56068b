-- The ids issued this run (to touched clusters) that an untouched record of core.identity_map already
-- carries: two clusters would share one id (an md5 prefix collision).
-- Grain: one row per clashing customer_id. Key: customer_id. Parameters: $ids (varchar[]).
with identity as (
    select * from core.identity_map
),

touched as (
    select * from _touched
),

final as (
    select distinct identity.customer_id
    from identity
    where identity.customer_id in (select unnest($ids::varchar[]))
        and (identity.source, identity.source_id) not in (select (record_source, record_id) from touched)
)

select * from final

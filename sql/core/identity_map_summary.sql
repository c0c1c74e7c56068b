-- What one dedupe run resolved: records, customers, merged records and the largest cluster.
-- Grain: one row (the whole of core.identity_map). Parameters: none.
with identity_map as (
    select * from core.identity_map
),

final as (
    select
        count(*) as records,
        count(distinct customer_id) as customers,
        count(*) filter (where match_rule <> 'singleton') as merged_records,
        count(*) filter (where match_rule like 'probabilistic:%') as probabilistic_records,
        coalesce(max(cluster_size), 0) as largest_cluster
    from identity_map
)

select * from final

-- Size, names and mean behaviour of each cluster of one published day (the report's cluster profiles).
-- Grain: one row per cluster_id. Key: cluster_id. Parameters: $as_of.
-- Means are over every customer of the cluster (no purchase: 0 orders and 0 spend; no session: 0 sessions),
-- but days since purchase, which only a buyer has: buyers counts them.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
        and cluster_id is not null
),

final as (
    select
        cluster_id,
        any_value(cluster_name_zh) as cluster_name_zh,
        any_value(cluster_name) as cluster_name,
        count(*) as customers,
        avg(recency_days) as recency_days,
        avg(coalesce(frequency, 0)) as frequency,
        avg(coalesce(monetary, 0)) as monetary,
        avg(coalesce(sessions_90d, 0)) as sessions_90d,
        count(recency_days) as buyers
    from segments
    group by cluster_id
    order by cluster_id
)

select * from final

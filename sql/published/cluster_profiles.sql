-- Size, names and mean behaviour of each cluster of one published day (the report's cluster profiles).
-- Grain: one row per cluster_id. Key: cluster_id. Parameters: $as_of.
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
        avg(frequency) as frequency,
        avg(monetary) as monetary,
        avg(sessions_90d) as sessions_90d
    from segments
    group by cluster_id
    order by cluster_id
)

select * from final

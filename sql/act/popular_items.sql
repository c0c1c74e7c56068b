-- How many customers have each item, within each customer segment and overall.
-- Grain: one row per (segment, item); segment is null for the overall row. Key: segment, item.
-- Parameters: none. Identifiers: {{interactions}}, a table of act/interaction_summary; {{customers}}, a table with
-- customer_id and rfm_segment (segments.customer_segments, or customers without a segment).
-- share: the item's customers over the customers with any item (in the segment, or overall); rank 1 is the
-- most popular, ties by item name.
with interactions as (
    select * from {{interactions}}
),

customers as (
    select * from {{customers}}
),

segmented as (
    select
        interactions.customer_id,
        interactions.item,
        customers.rfm_segment as segment
    from interactions
    left join customers using (customer_id)
),

in_segment as (
    select
        segment,
        item,
        count(*) as customers
    from segmented
    where segment is not null
    group by segment, item
),

overall as (
    select
        null::varchar as segment,
        item,
        count(*) as customers
    from segmented
    group by item
),

counted as (
    select * from in_segment
    union all
    select * from overall
),

segment_sizes as (
    select
        segment,
        count(distinct customer_id) as segment_customers
    from segmented
    group by segment
),

final as (
    select
        counted.segment,
        counted.item,
        counted.customers,
        counted.customers / case
            when counted.segment is null then (select count(distinct customer_id) from segmented)
            else segment_sizes.segment_customers
        end as share,
        row_number() over (partition by counted.segment order by counted.customers desc, counted.item) as rank
    from counted
    left join segment_sizes on segment_sizes.segment = counted.segment
)

select * from final

-- Each customer's recommended items of the day in one column, best first, comma separated (a view).
-- Grain: one row per customer_id with a recommendation. Key: customer_id. Parameters: none.
-- Published as recommended_items (published/customer_segments.sql) and in the outreach files.
with recommendations as (
    select * from act.recommendations
),

final as (
    select
        customer_id,
        string_agg(item, ',' order by rank) as recommended_items
    from recommendations
    group by customer_id
)

select * from final

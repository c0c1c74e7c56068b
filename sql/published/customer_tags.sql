-- Tags to publish for one as_of: the day's customer tags (客户标签) as the segment stage built them.
-- Grain: one row per customer_id, tag and value. Key: as_of, customer_id, tag, value. Parameters: none.
with tags as (
    select * from segments.customer_tags
),

final as (
    select * from tags
)

select * from final

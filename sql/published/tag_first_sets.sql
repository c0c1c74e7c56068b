-- The tag sets a first publish stores: every customer's set of the day (sql/published/tag_set_rows.sql
-- reads them as _tag_new_sets). Grain: one row per customer_id. Key: customer_id. Parameters: none.
-- Reads _tag_sets (sql/published/tag_sets.sql).
with day_sets as (
    select * from _tag_sets
),

final as (
    select
        customer_id,
        tags_hash
    from day_sets
)

select * from final

-- The rows of the tag sets a publish adds to published.customer_tag_sets (a first publish: every set).
-- Grain: one row per tag row of a new set (a row the set has twice comes twice). Key: customer_id,
-- tags_hash, tag, value. Parameters: none. Reads _tag_new_sets (customer_id, tags_hash: the day's sets
-- to add, one per customer). Filled in: day_tags (sql/published/customer_tags.sql).
-- A customer's sets are stored once each, by their hash: a customer who returns to an earlier set, or
-- whose span is cut by a backfill, reuses its rows.
with day_tags as (
    {{day_tags}}
),

new_sets as (
    select * from _tag_new_sets
),

final as (
    select
        day_tags.customer_id,
        new_sets.tags_hash,
        day_tags.tag,
        day_tags.tag_zh,
        day_tags.value
    from day_tags
    join new_sets using (customer_id)
)

select * from final

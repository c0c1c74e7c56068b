-- The tag spans of a first publish: each customer's tag set of the day, from as_of on
-- (published.customer_tag_spans). Grain: one row per customer_id. Key: customer_id, valid_from.
-- Parameters: $as_of. Reads _tag_sets (sql/published/tag_sets.sql).
-- A span says that a customer has the tag set tags_hash (its rows: published.customer_tag_sets) on every
-- published day from valid_from up to, not including, valid_to (null: still open). Publishing a day changes
-- only the spans of the customers whose set changed that day (tasks/publish/tags.py).
with day_sets as (
    select * from _tag_sets
),

final as (
    select
        customer_id,
        tags_hash,
        $as_of::date as valid_from,
        null::date as valid_to
    from day_sets
)

select * from final

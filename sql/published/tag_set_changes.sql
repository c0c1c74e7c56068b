-- The customers whose tag set on as_of differs from the one the tag spans give that day.
-- Grain: one row per changed customer_id. Key: customer_id. Parameters: $as_of.
-- Reads _tag_sets (the day's sets, sql/published/tag_sets.sql). A span covers as_of when
-- valid_from <= as_of < valid_to (null: open): for a day published before, the set it has now; for a new
-- day, the set the published days on both sides of it share (after the last published day: that day's).
-- old_*: the covering span (null: none covers the day); tags_hash: the day's set (null: the customer has
-- no tags that day). A customer whose set is unchanged is not listed and not written.
with day_sets as (
    select * from _tag_sets
),

spans as (
    select * from published.customer_tag_spans
),

covering as (
    select *
    from spans
    where valid_from <= $as_of and (valid_to is null or valid_to > $as_of)
),

final as (
    select
        coalesce(covering.customer_id, day_sets.customer_id) as customer_id,
        covering.tags_hash as old_hash,
        covering.valid_from as old_from,
        covering.valid_to as old_to,
        day_sets.tags_hash
    from covering
    full join day_sets
        on covering.customer_id = day_sets.customer_id
    where covering.tags_hash is distinct from day_sets.tags_hash
)

select * from final

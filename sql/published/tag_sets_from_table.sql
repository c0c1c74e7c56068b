-- The tag sets of an earlier version's published.customer_tags table: each customer's distinct sets, their
-- rows as the first day with that set had them. Grain: one tag row of a set (a row the set has twice comes
-- twice). Key: customer_id, tags_hash, tag, value. Parameters: none.
-- Reads the table and _old_tag_sets (its sets per day, sql/published/tag_sets.sql).
with rows_by_day as (
    select * from published.customer_tags
),

sets as (
    select * from _old_tag_sets
),

first_days as (
    select
        customer_id,
        tags_hash,
        min(as_of) as as_of
    from sets
    group by customer_id, tags_hash
),

final as (
    select
        rows_by_day.customer_id,
        first_days.tags_hash,
        rows_by_day.tag,
        rows_by_day.tag_zh,
        rows_by_day.value
    from rows_by_day
    join first_days using (customer_id, as_of)
)

select * from final

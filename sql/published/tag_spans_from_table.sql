-- The tag spans of an earlier version's published.customer_tags table (one row per day and tag): each
-- run of consecutive published days on which a customer has the same tag set becomes one span.
-- Grain: one row per span. Key: customer_id, valid_from. Parameters: none.
-- Reads _old_tag_sets (that table's sets per day, sql/published/tag_sets.sql) and
-- published.customer_tag_days (its days).
with sets as (
    select * from _old_tag_sets
),

days as (
    select
        as_of,
        row_number() over (order by as_of) as day_number,
        lead(as_of) over (order by as_of) as next_day
    from published.customer_tag_days
),

islands as (
    -- consecutive published days of one set share day_number - the set's own day count
    select
        sets.customer_id,
        sets.tags_hash,
        sets.as_of,
        days.day_number - row_number() over (
            partition by sets.customer_id, sets.tags_hash order by sets.as_of
        ) as island
    from sets
    join days using (as_of)
),

spans as (
    select
        customer_id,
        tags_hash,
        min(as_of) as valid_from,
        max(as_of) as last_day
    from islands
    group by customer_id, tags_hash, island
),

final as (
    select
        spans.customer_id,
        spans.tags_hash,
        spans.valid_from,
        days.next_day as valid_to
    from spans
    join days
        on days.as_of = spans.last_day
)

select * from final

-- The tag sets of the day's changed customers that published.customer_tag_sets does not hold yet: the sets
-- no span names (every stored set is named by a span: tag_sets_unused.sql removes the others), so only
-- the spans are read, not the sets' rows. Read before the day's span edits.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none. Reads _tag_changes
-- (sql/published/tag_set_changes.sql).
with changes as (
    select * from _tag_changes
),

spans as (
    select * from published.customer_tag_spans
),

final as (
    select
        changes.customer_id,
        changes.tags_hash
    from changes
    anti join spans
        on spans.customer_id = changes.customer_id
        and spans.tags_hash = changes.tags_hash
    where changes.tags_hash is not null
)

select * from final

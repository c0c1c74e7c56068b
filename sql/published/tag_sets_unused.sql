-- Publish: delete from published.customer_tag_sets the sets that the day's span edits left no span naming
-- (the earlier set of a changed customer whose only days were replaced: a day published again).
-- Grain: one tag row. Key: customer_id, tags_hash. Parameters: none. Reads _tag_changes; run after the
-- day's span edits.
delete from published.customer_tag_sets as sets
using (
    select
        changes.customer_id,
        changes.old_hash as tags_hash
    from _tag_changes as changes
    anti join published.customer_tag_spans as spans
        on spans.customer_id = changes.customer_id
        and spans.tags_hash = changes.old_hash
    where changes.old_hash is not null
) as unused
where sets.customer_id = unused.customer_id
    and sets.tags_hash = unused.tags_hash

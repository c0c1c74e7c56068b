-- The tag spans a publish adds (see sql/published/tag_span_edits.sql), to insert into
-- published.customer_tag_spans. Grain: one row per span. Key: customer_id, valid_from. Parameters: none.
-- Reads _tag_span_edits.
with edits as (
    select * from _tag_span_edits
),

final as (
    select
        customer_id,
        tags_hash,
        valid_from,
        valid_to
    from edits
    where edit = 'add'
)

select * from final

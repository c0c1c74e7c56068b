-- Publish: delete from published.customer_tag_spans the spans a publish drops (sql/published/tag_span_edits.sql).
-- Grain: one tag span. Key: customer_id, valid_from. Parameters: none. Reads _tag_span_edits.
delete from published.customer_tag_spans as spans
using _tag_span_edits as edits
where edits.edit = 'drop'
    and spans.customer_id = edits.customer_id
    and spans.valid_from = edits.valid_from

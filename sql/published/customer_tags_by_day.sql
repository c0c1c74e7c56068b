-- View: published.customer_tags, the customer tags (客户标签) of every published day, from the tag spans.
-- Grain: one row per as_of, customer_id, tag and value, as the day's tags had them (a row the day had
-- twice comes twice). Key: as_of, customer_id, tag, value. Parameters: none.
-- A published day (published.customer_tag_days) has the rows of the tag set
-- (published.customer_tag_sets) of each customer's span that covers it: valid_from <= as_of < valid_to
-- (null: open).
with days as (
    select * from published.customer_tag_days
),

spans as (
    select * from published.customer_tag_spans
),

sets as (
    select * from published.customer_tag_sets
),

covered as (
    select
        days.as_of,
        spans.customer_id,
        spans.tags_hash
    from spans
    join days
        on days.as_of >= spans.valid_from
        and days.as_of < coalesce(spans.valid_to, 'infinity'::date)
),

final as (
    select
        covered.as_of,
        covered.customer_id,
        sets.tag,
        sets.tag_zh,
        sets.value
    from covered
    join sets
        on sets.customer_id = covered.customer_id
        and sets.tags_hash = covered.tags_hash
)

select * from final

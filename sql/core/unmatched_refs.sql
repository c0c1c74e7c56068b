-- The customer_ref values of each fact source that match no record of the customers source they point into.
-- Grain: one row per fact source with a customers source (core.source_links) and any customer_ref.
-- Key: source. Parameters: none. Identifiers: {{facts}}: a staged fact table (staging.transactions,
-- staging.events or staging.feedback).
-- refs: distinct customer_ref values; unmatched: of those, the ones no record of the customers source has
-- as its source_id; without_decimals: of those, the ones that would match without a trailing '.0' (an id
-- a spreadsheet or a float column wrote as 17850.0 while the customers source says 17850); examples: up to
-- three unmatched values, smallest first.
with facts as (
    select * from {{facts}}
),

links as (
    select * from core.source_links
    where customer_source is not null
),

records as (
    select distinct
        source,
        source_id
    from staging.customers
),

refs as (
    select distinct
        facts.source,
        links.customer_source,
        facts.customer_ref
    from facts
    join links on links.source = facts.source
    where facts.customer_ref is not null
),

checked as (
    select
        refs.*,
        exact.source_id is null as unmatched,
        exact.source_id is null and trimmed.source_id is not null as without_decimals
    from refs
    left join records as exact
        on exact.source = refs.customer_source
        and exact.source_id = refs.customer_ref
    left join records as trimmed
        on trimmed.source = refs.customer_source
        and trimmed.source_id = regexp_replace(refs.customer_ref, '[.]0+$', '')
),

final as (
    select
        source,
        any_value(customer_source) as customer_source,
        count(*) as refs,
        count(*) filter (where unmatched) as unmatched,
        count(*) filter (where without_decimals) as without_decimals,
        list(customer_ref order by customer_ref) filter (where unmatched)[1:3] as examples
    from checked
    group by source
    order by source
)

select * from final

-- customer_ref values of the new facts of each fact source without a customers source that are whole numbers
-- written as decimals (17850.0: a spreadsheet or a float column) while the same source also names the customer
-- without them (17850): two customers for one person. (A source with a customers source is checked against
-- its records instead: core/unmatched_refs.sql.)
-- Grain: one row per fact source with such values. Key: source. Parameters: none.
-- Identifiers: {{facts}}: the new staged facts of one kind (core/new_facts.sql, or a staged fact table);
-- {{all_facts}}: every staged fact of that kind. examples: up to three pairs, smallest first.
with new_facts as (
    select * from {{facts}}
),

all_facts as (
    select * from {{all_facts}}
),

linked as (
    select source from core.source_links
    where customer_source is not null
),

decimals as (
    select distinct
        source,
        customer_ref,
        regexp_replace(customer_ref, '[.]0+$', '') as whole
    from new_facts
    where regexp_full_match(customer_ref, '[0-9]+[.]0+')
        and source not in (select source from linked)
),

final as (
    select
        decimals.source,
        count(*) as refs,
        list(decimals.customer_ref || ' and ' || decimals.whole order by decimals.customer_ref)[1:3] as examples
    from decimals
    semi join all_facts
        on all_facts.source = decimals.source
        and all_facts.customer_ref = decimals.whole
    group by decimals.source
    order by decimals.source
)

select * from final

-- customer_ref values of each fact source without a customers source that are whole numbers written as decimals
-- (17850.0: a spreadsheet or a float column) while the same source also names the customer without them (17850):
-- two customers for one person. Either form may be the new one: new facts with decimals against any staged plain
-- ref, or new plain refs against decimals staged before. (A source with a customers source is checked against
-- its records instead: core/unmatched_refs.sql.)
-- Grain: one row per fact source with such values. Key: source. Parameters: none.
-- Identifiers: {{facts}}: the new staged facts of one kind (core/new_facts.sql, or a staged fact table);
-- {{all_facts}}: every staged fact of that kind. examples: up to three pairs, smallest first.
with linked as (
    select source from core.source_links
    where customer_source is not null
),

-- the new facts of sources without a customers source (the others are checked against their records)
new_facts as (
    select * from {{facts}}
    where source not in (select source from linked)
),

all_facts as not materialized (
    select * from {{all_facts}}
),

-- refs of the new facts written as decimals whose whole number the source also writes
new_decimals as (
    select distinct
        source,
        customer_ref,
        regexp_replace(customer_ref, '[.]0+$', '') as whole
    from new_facts
    where regexp_full_match(customer_ref, '[0-9]+[.]0+')
),

-- refs of the new facts written without decimals whose decimal form the source wrote before (an export that
-- changed: a float column fixed); `like` passes over the staged facts cheaply before the pattern
new_wholes as (
    select distinct
        source,
        customer_ref as whole
    from new_facts
    where regexp_full_match(customer_ref, '[0-9]+')
),

old_decimals as (
    select distinct
        all_facts.source,
        all_facts.customer_ref,
        new_wholes.whole
    from all_facts
    join new_wholes
        on new_wholes.source = all_facts.source
        and new_wholes.whole = regexp_replace(all_facts.customer_ref, '[.]0+$', '')
    where all_facts.customer_ref like '%.0%'
        and regexp_full_match(all_facts.customer_ref, '[0-9]+[.]0+')
),

pairs as (
    select
        new_decimals.source,
        new_decimals.customer_ref,
        new_decimals.whole
    from new_decimals
    semi join all_facts
        on all_facts.source = new_decimals.source
        and all_facts.customer_ref = new_decimals.whole
    union
    select
        old_decimals.source,
        old_decimals.customer_ref,
        old_decimals.whole
    from old_decimals
),

final as (
    select
        source,
        count(*) as refs,
        list(customer_ref || ' and ' || whole order by customer_ref)[1:3] as examples
    from pairs
    group by source
    order by source
)

select * from final

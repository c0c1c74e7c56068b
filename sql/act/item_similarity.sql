-- How alike two items are: the customers who have both (co-occurrence), SAR-style.
-- Grain: one row per ordered pair (item, similar_item) of different items. Key: item, similar_item.
-- Parameters: $similarity ('jaccard', 'lift' or 'cooccurrence', checked in code), $min_cooccurrence (integer).
-- Identifiers: {{interactions}}, a table of act/interaction_summary.
-- cooccurrence: customers with both; jaccard: both / either; lift: both / (customers of one x customers of
-- the other), as in SAR (it favours rarer items). Pairs fewer than $min_cooccurrence customers share are dropped.
with interactions as (
    select * from {{interactions}}
),

item_customers as (
    select
        item,
        count(*) as customers
    from interactions
    group by item
),

pairs as (
    select
        one.item,
        other.item as similar_item,
        count(*) as cooccurrence
    from interactions as one
    join interactions as other
        on other.customer_id = one.customer_id
        and other.item <> one.item
    group by one.item, other.item
    having count(*) >= $min_cooccurrence
),

final as (
    select
        pairs.item,
        pairs.similar_item,
        pairs.cooccurrence,
        case $similarity
            when 'jaccard' then pairs.cooccurrence / (one.customers + other.customers - pairs.cooccurrence)
            when 'lift' then pairs.cooccurrence / (one.customers * other.customers)
            else pairs.cooccurrence
        end::double as similarity
    from pairs
    join item_customers as one on one.item = pairs.item
    join item_customers as other on other.item = pairs.similar_item
)

select * from final

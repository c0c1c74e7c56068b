-- The items to recommend to each customer: the $top_k they have not had yet, the most similar to theirs first.
-- Grain: one row per (customer_id, rank), rank 1 to $top_k. Key: customer_id, rank.
-- Parameters: $top_k (integer), $use_similarity (boolean: false gives the popularity baseline).
-- Identifiers: {{interactions}} (act/interactions), {{similarity}} (act/item_similarity), {{popular}}
-- (act/popular_items), {{customers}}: the customers to recommend to, with customer_id and rfm_segment.
-- source 'similar': score = sum over the customer's items of affinity x similarity (SAR). Places left are filled
-- from the items most popular in the customer's rfm_segment ('popular_in_segment'), then overall ('popular'),
-- score being the item's share of customers there. Items the customer has had are never recommended; a customer
-- who has had every item gets no rows. Ties go to the item name first (scores compared to 9 decimals, so the
-- order in which floating-point sums were added up never decides).
with interactions as (
    select * from {{interactions}}
),

similarity as (
    select * from {{similarity}}
    where $use_similarity
),

popular as (
    select * from {{popular}}
),

customers as (
    select
        customer_id,
        rfm_segment as segment
    from {{customers}}
),

played as (
    select
        customer_id,
        count(*) as items
    from interactions
    group by customer_id
),

similar_items as (
    select
        interactions.customer_id,
        similarity.similar_item as item,
        sum(interactions.affinity * similarity.similarity) as score,
        1 as priority,
        'similar' as source
    from interactions
    join similarity on similarity.item = interactions.item
    semi join customers on customers.customer_id = interactions.customer_id
    group by interactions.customer_id, similarity.similar_item
    having sum(interactions.affinity * similarity.similarity) > 0
),

-- enough of the most popular items that $top_k of them are new to the customer
popular_in_segment as (
    select
        customers.customer_id,
        popular.item,
        popular.share as score,
        2 as priority,
        'popular_in_segment' as source
    from customers
    left join played on played.customer_id = customers.customer_id
    join popular
        on popular.segment = customers.segment
        and popular.rank <= $top_k + coalesce(played.items, 0)
),

popular_overall as (
    select
        customers.customer_id,
        popular.item,
        popular.share as score,
        3 as priority,
        'popular' as source
    from customers
    left join played on played.customer_id = customers.customer_id
    join popular
        on popular.segment is null
        and popular.rank <= $top_k + coalesce(played.items, 0)
),

candidates as (
    select * from similar_items
    union all
    select * from popular_in_segment
    union all
    select * from popular_overall
),

new_items as (
    select candidates.*
    from candidates
    anti join interactions
        on interactions.customer_id = candidates.customer_id
        and interactions.item = candidates.item
    qualify row_number() over (partition by candidates.customer_id, candidates.item order by candidates.priority) = 1
),

ranked as (
    select
        customer_id,
        row_number() over (
            partition by customer_id
            order by priority, round(score, 9) desc, item
        ) as rank,
        item,
        score,
        source
    from new_items
),

final as (
    select
        customer_id,
        cast(rank as integer) as rank,
        item,
        score,
        source
    from ranked
    where rank <= $top_k
)

select * from final

-- The items to recommend to each customer: the $top_k they have not had yet, the most similar to theirs first.
-- Grain: one row per (customer_id, rank), rank 1 to $top_k. Key: customer_id, rank.
-- Parameters: $top_k (integer), $use_similarity (boolean: false gives the popularity baseline).
-- Identifiers: {{interactions}} (act/interaction_summary), {{similarity}} (act/item_similarity), {{popular}}
-- (act/popular_items), {{customers}}: the customers to recommend to, with customer_id and rfm_segment.
-- source 'similar': score = sum over the customer's items of affinity x similarity (SAR), added up as decimals
-- (24 places: the same score whatever order threads add in). Places left are filled
-- from the items most popular in the customer's rfm_segment ('popular_in_segment'), then overall ('popular'),
-- score being the item's share of customers there. Items the customer has had are never recommended; a customer
-- who has had every item gets no rows. Ties go to the item name first (scores compared to 9 decimals, so the
-- order in which floating-point sums were added up never decides).
-- How, for a million customers: customers and items are numbered first (integer keys join and group several
-- times faster than text), and each source only fills the places the sources before it left: the similar
-- items are ranked once, then the customers still short get popular items of their segment, then overall.
-- An item already among a customer's similar (or segment) candidates is not offered again by a later source;
-- when a later source is needed at all, the earlier one's candidates all made the list, so excluding the
-- listed ones is enough. A popular item is offered while its rank <= $top_k + the customer's items: at most
-- that many of the first ranks can be taken, so the places are always found there.
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

-- materialized: the numbering must be the same wherever it is read
customers as materialized (
    select
        customer_id,
        rfm_segment as segment,
        row_number() over () as customer_no
    from {{customers}}
),

items as materialized (
    select
        item,
        row_number() over (order by item) as item_no
    from popular
    where segment is null
),

owned as (
    select
        customers.customer_no,
        items.item_no,
        interactions.affinity
    from interactions
    join customers on customers.customer_id = interactions.customer_id
    join items on items.item = interactions.item
),

played as (
    select
        customer_no,
        count(*) as items
    from owned
    group by customer_no
),

similar_pairs as (
    select
        one.item_no,
        other.item_no as similar_no,
        similarity.similarity
    from similarity
    join items as one on one.item = similarity.item
    join items as other on other.item = similarity.similar_item
),

popular_items as (
    select
        popular.segment,
        items.item_no,
        popular.share,
        popular.rank
    from popular
    join items on items.item = popular.item
),

similar_scores as (
    select
        owned.customer_no,
        similar_pairs.similar_no as item_no,
        sum(cast(owned.affinity * similar_pairs.similarity as decimal(38, 24)))::double as score
    from owned
    join similar_pairs on similar_pairs.item_no = owned.item_no
    group by owned.customer_no, similar_pairs.similar_no
    having sum(cast(owned.affinity * similar_pairs.similarity as decimal(38, 24))) > 0
),

-- materialized, as the other candidates below: a window over an anti join, written as one select, was seen
-- numbering rows the anti join removes
similar_candidates as materialized (
    select similar_scores.*
    from similar_scores
    anti join owned
        on owned.customer_no = similar_scores.customer_no
        and owned.item_no = similar_scores.item_no
),

similar_items as (
    select
        customer_no,
        item_no,
        score,
        1 as priority,
        row_number() over (
            partition by customer_no
            order by round(score, 9) desc, item_no
        ) as rank
    from similar_candidates
    qualify rank <= $top_k
),

similar_counts as (
    select
        customer_no,
        count(*) as items
    from similar_items
    group by customer_no
),

-- the customers with places left after the similar items: places is how far down the popular ranks to
-- look, taken how many places the similar items took
short as (
    select
        customers.customer_no,
        customers.segment,
        $top_k + coalesce(played.items, 0) as places,
        coalesce(similar_counts.items, 0) as taken
    from customers
    left join played on played.customer_no = customers.customer_no
    left join similar_counts on similar_counts.customer_no = customers.customer_no
    where coalesce(similar_counts.items, 0) < $top_k
),

segment_candidates as materialized (
    select
        short.customer_no,
        short.taken,
        popular_items.item_no,
        popular_items.share
    from short
    join popular_items
        on popular_items.segment = short.segment
        and popular_items.rank <= short.places
    anti join owned
        on owned.customer_no = short.customer_no
        and owned.item_no = popular_items.item_no
    anti join similar_items
        on similar_items.customer_no = short.customer_no
        and similar_items.item_no = popular_items.item_no
),

popular_in_segment as (
    select
        customer_no,
        item_no,
        share as score,
        2 as priority,
        taken + row_number() over (
            partition by customer_no
            order by round(share, 9) desc, item_no
        ) as rank
    from segment_candidates
    qualify rank <= $top_k
),

segment_counts as (
    select
        customer_no,
        count(*) as items
    from popular_in_segment
    group by customer_no
),

-- the customers with places left after their segment's popular items too
shorter as (
    select
        short.customer_no,
        short.places,
        short.taken + coalesce(segment_counts.items, 0) as taken
    from short
    left join segment_counts on segment_counts.customer_no = short.customer_no
    where short.taken + coalesce(segment_counts.items, 0) < $top_k
),

overall_candidates as materialized (
    select
        shorter.customer_no,
        shorter.taken,
        popular_items.item_no,
        popular_items.share
    from shorter
    join popular_items
        on popular_items.segment is null
        and popular_items.rank <= shorter.places
    anti join owned
        on owned.customer_no = shorter.customer_no
        and owned.item_no = popular_items.item_no
    anti join similar_items
        on similar_items.customer_no = shorter.customer_no
        and similar_items.item_no = popular_items.item_no
    anti join popular_in_segment
        on popular_in_segment.customer_no = shorter.customer_no
        and popular_in_segment.item_no = popular_items.item_no
),

popular_overall as (
    select
        customer_no,
        item_no,
        share as score,
        3 as priority,
        taken + row_number() over (
            partition by customer_no
            order by round(share, 9) desc, item_no
        ) as rank
    from overall_candidates
    qualify rank <= $top_k
),

ranked as (
    select * from similar_items
    union all
    select * from popular_in_segment
    union all
    select * from popular_overall
),

final as (
    select
        customers.customer_id,
        cast(ranked.rank as integer) as rank,
        items.item,
        ranked.score,
        case ranked.priority
            when 1 then 'similar'
            when 2 then 'popular_in_segment'
            else 'popular'
        end as source
    from ranked
    join customers on customers.customer_no = ranked.customer_no
    join items on items.item_no = ranked.item_no
)

select * from final

-- How well ranked recommendations found the items customers took up next: precision, recall and nDCG at k.
-- Grain: one row (one model). Key: model.
-- Parameters: $model (its name), $top_k (integer, k).
-- Identifiers: {{recommendations}} (act/recommendations), {{truth}} (act/recommendation_truth), {{interactions}}
-- (act/interaction_summary the recommendations were fitted on: the catalogue).
-- Averaged over the customers with at least one item in the truth (users); one without recommendations
-- scores 0. Relevance is binary; DCG discounts a hit at rank r by log2(r + 1), and the ideal DCG puts
-- min(k, items taken up) hits first. coverage: distinct items recommended to these users / catalogue items.
-- Each customer's figures are summed as decimals (18 places): exact, so the averages do not depend on the
-- order parallel threads add them up in.
with recommendations as (
    select * from {{recommendations}}
),

truth as (
    select * from {{truth}}
),

interactions as (
    select * from {{interactions}}
),

users as (
    select
        customer_id,
        count(*) as relevant
    from truth
    group by customer_id
),

hits as (
    select
        recommendations.customer_id,
        count(*) as hits,
        sum(1 / log2(recommendations.rank + 1)) as dcg
    from recommendations
    join truth
        on truth.customer_id = recommendations.customer_id
        and truth.item = recommendations.item
    where recommendations.rank <= $top_k
    group by recommendations.customer_id
),

ideal as (
    select
        position,
        sum(1 / log2(position + 1)) over (order by position) as idcg
    from range(1, $top_k + 1) as positions(position)
),

scored as (
    select
        users.customer_id,
        cast(coalesce(hits.hits, 0) / $top_k as decimal(38, 18)) as precision,
        cast(coalesce(hits.hits, 0) / users.relevant as decimal(38, 18)) as recall,
        cast(coalesce(hits.dcg, 0) / ideal.idcg as decimal(38, 18)) as ndcg
    from users
    left join hits on hits.customer_id = users.customer_id
    join ideal on ideal.position = least($top_k, users.relevant)
),

recommended as (
    select count(distinct recommendations.item) as items
    from recommendations
    semi join users on users.customer_id = recommendations.customer_id
    where recommendations.rank <= $top_k
),

final as (
    select
        $model::varchar as model,
        $top_k::integer as k,
        count(*) as users,
        cast(sum(scored.precision) as double) / count(*) as precision,
        cast(sum(scored.recall) as double) / count(*) as recall,
        cast(sum(scored.ndcg) as double) / count(*) as ndcg,
        (select items from recommended) / nullif((select count(distinct item) from interactions), 0) as coverage
    from scored
)

select * from final

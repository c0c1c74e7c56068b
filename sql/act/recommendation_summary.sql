-- What a recommendation build produced: customers reached, recommendations by source, catalogue coverage.
-- Grain: one row. Parameters: none.
-- Identifiers: {{recommendations}} (act/recommendations), {{interactions}} (act/interaction_summary: the catalogue).
with recommendations as (
    select * from {{recommendations}}
),

interactions as (
    select * from {{interactions}}
),

final as (
    select
        (select count(distinct customer_id) from recommendations) as customers,
        (select count(*) from recommendations) as recommendations,
        (select count(*) from recommendations where source = 'similar') as similar,
        (select count(*) from recommendations where source = 'popular_in_segment') as popular_in_segment,
        (select count(*) from recommendations where source = 'popular') as popular,
        (select count(distinct item) from recommendations) as items_recommended,
        (select count(distinct item) from interactions) as items,
        (select count(distinct customer_id) from interactions) as customers_with_items
)

select * from final

-- What a recommendation build produced: customers reached, recommendations by source, catalogue coverage.
-- Grain: one row. Parameters: none.
-- Identifiers: {{recommendations}} (act/recommendations), {{interactions}} (act/interaction_summary: the catalogue).
-- Each table is read once, all its counts taken in the same pass.
with recommendations as (
    select * from {{recommendations}}
),

interactions as (
    select * from {{interactions}}
),

recommended as (
    select
        count(distinct customer_id) as customers,
        count(*) as recommendations,
        count(*) filter (where source = 'similar') as "similar",
        count(*) filter (where source = 'popular_in_segment') as popular_in_segment,
        count(*) filter (where source = 'popular') as popular,
        count(distinct item) as items_recommended
    from recommendations
),

catalogue as (
    select
        count(distinct item) as items,
        count(distinct customer_id) as customers_with_items
    from interactions
),

final as (
    select
        recommended.customers,
        recommended.recommendations,
        recommended."similar",
        recommended.popular_in_segment,
        recommended.popular,
        recommended.items_recommended,
        catalogue.items,
        catalogue.customers_with_items
    from recommended
    cross join catalogue
)

select * from final

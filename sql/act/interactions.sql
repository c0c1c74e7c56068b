-- Each customer's interest in each item (a game type or product category) as of a day, SAR-style.
-- Grain: one row per (customer_id, item). Key: customer_id, item.
-- Parameters: $as_of (date), $half_life_days (double), $purchase_weight (double: what one purchase counts
-- for, a play counting 1). Identifiers: {{days}}, a table of act/interaction_days read up to as_of or later.
-- Each interaction weighs 2^(-age / $half_life_days), age being whole local days before as_of (0 on the
-- as_of day); affinity is their sum, added up as decimals (24 places): exact, so it does not depend on the
-- order parallel threads add them in (a day's interactions count its weight that many times, exactly).
-- Days after as_of (when {{days}} reads further: a time-split evaluation takes its fit and its truth from
-- the same days) count only for first_date: an item first had after as_of has affinity 0, no plays or
-- purchases and no last_date.
with days as (
    select * from {{days}}
),

weighed as (
    select
        *,
        case when purchase then $purchase_weight::double else 1.0 end as weight
    from days
),

final as (
    select
        customer_id,
        item,
        coalesce(
            sum(
                cast(weight * pow(2, -($as_of::date - interaction_date) / $half_life_days::double) as decimal(38, 24))
                    * interactions
            ) filter (where interaction_date <= $as_of::date),
            0
        )::double as affinity,
        coalesce(sum(interactions) filter (where not purchase and interaction_date <= $as_of::date), 0)::bigint
            as plays,
        coalesce(sum(interactions) filter (where purchase and interaction_date <= $as_of::date), 0)::bigint
            as purchases,
        min(interaction_date) as first_date,
        max(interaction_date) filter (where interaction_date <= $as_of::date) as last_date
    from weighed
    group by customer_id, item
)

select * from final

-- The kept values two people hold (core.identity_two_people), in key, value order.
-- Grain: one row per (key, value). Key: key, value. Parameters: none.
with apart as (
    select * from core.identity_two_people
),

final as (
    select
        key,
        value,
        records
    from apart
)

select * from final
order by key, value

-- What a destination of all customers receives for one day: every published customer, with their fields.
-- Grain: one row per customer_id. Parameters: $as_of.
-- Filled in: people (people.sql, or marketing_people.sql for marketing), fields (people.<field> for each
-- field the destination asks for, checked against the published columns).
with people as (
{{people}}
),

final as (
    select
        people.as_of,
        {{fields}}
    from people
    order by people.customer_id
)

select * from final

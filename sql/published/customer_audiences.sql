-- One customer's audiences on one published day: held out or not, since when, and today's offer.
-- Grain: one row per audience the customer is in on $as_of. Key: audience.
-- Parameters: $as_of, $customer_id.
with members as (
    select * from published.audience_members
    where as_of = $as_of
        and customer_id = $customer_id
),

offers as (
    select * from published.outreach
    where as_of = $as_of
        and customer_id = $customer_id
),

final as (
    select
        members.audience,
        members.holdout,
        members.entered_on,
        offers.channel as offered_on
    from members
    left join offers using (audience)
    order by members.audience
)

select * from final

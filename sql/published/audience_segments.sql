-- The published rows of one day of the customers in any audience that day (published.audience_members):
-- all the outreach list can hold (outreach.sql lists audience members only; outreach_contacts.sql reads
-- its list), so people.sql joins golden records and checks consent and suppression for them alone.
-- Grain: one row per customer_id. Key: customer_id. Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
),

members as (
    select * from published.audience_members
    where as_of = $as_of
),

final as (
    select segments.*
    from segments
    semi join members using (customer_id)
)

select * from final

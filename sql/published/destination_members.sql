-- What a destination of one scheme receives for one day: the members of each of its segments, with their fields.
-- Grain: one row per (segment, customer_id) of the scheme. Parameters: $as_of, $scheme.
-- Filled in: people (people.sql, or marketing_people.sql for marketing), fields (people.<field> for each
-- field the destination asks for, checked against the published columns), memberships
-- (segment_memberships.sql over published.customer_segments).
with memberships as (
{{memberships}}
),

members as (
    select * from memberships
    where scheme = $scheme
),

people as (
{{people}}
),

final as (
    select
        people.as_of,
        members.scheme,
        members.segment,
        {{fields}}
    from members
    join people using (customer_id)
    order by members.segment, people.customer_id
)

select * from final

-- What the outreach files hold for one published day, one file per channel: who to contact for which audience,
-- at which address, with what to recommend.
-- Grain: one row per customer_id listed on $as_of. Key: customer_id.
-- Parameters: $as_of, $member_sources.
-- Filled in: people (marketing_people.sql), member_ids (member_ids.sql). The address is read from the
-- golden record now (consent and suppression checked again), never stored with the list. The recommended
-- items are the day's published ones (people.sql reads the day's published row), not the act.recommended_items
-- view again: that view aggregates every customer's recommendations each time it is read.
with listed as (
    select * from published.outreach
    where as_of = $as_of
),

audiences as (
    select * from act.audiences
),

people as (
{{people}}
),

member_ids as (
{{member_ids}}
),

final as (
    select
        listed.as_of,
        listed.audience,
        audiences.label_zh as audience_zh,
        audiences.label_en as audience_en,
        listed.priority,
        listed.customer_id,
        listed.channel,
        case listed.channel
            when 'email' then people.email
            when 'sms' then people.phone
            when 'in_game' then member_ids.member_id
        end as address,
        people.recommended_items
    from listed
    join people using (customer_id)
    left join audiences using (audience)
    left join member_ids using (customer_id)
    order by listed.channel, listed.audience, listed.customer_id
)

select * from final

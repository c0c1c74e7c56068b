-- Today's outreach list: who to contact for which audience, on which channel. One offer per customer
-- per offer window.
-- Grain: one row per customer_id listed on $as_of. Key: as_of, customer_id.
-- Parameters: $as_of, $run_id, $window_days (act.offer_window_days), $member_sources (customers sources, in
-- config order: the in-game id is the customer's record id in the first one that has it).
-- Filled in: people (marketing_people.sql: consent given, not suppressed), member_ids (member_ids.sql).
-- Rules, in order: held out of any audience they are in that day, a customer is listed nowhere (a
-- contact from another audience would spoil that audience's comparison); otherwise their audience of
-- the day is the one with the highest priority (then the one listed first in the config) among those
-- they are in; offered anything on a published day
-- within the last $window_days - 1 days, they are not listed again; the channel is the first of the
-- audience's channels with an address (email, phone, in-game id; wechat needs a wechat_openid field
-- and has none yet).
with members as (
    select * from published.audience_members
    where as_of = $as_of
),

audiences as (
    select * from act.audiences
),

channels as (
    select * from act.audience_channels
),

people as (
{{people}}
),

earlier_offers as (
    select distinct customer_id
    from published.outreach
    where as_of < $as_of
        and as_of > $as_of::date - $window_days
),

member_ids as (
{{member_ids}}
),

chosen as (
    select
        members.customer_id,
        members.audience,
        members.holdout,
        audiences.priority
    from members
    join audiences using (audience)
    qualify row_number() over (
        partition by members.customer_id
        order by audiences.priority desc, audiences.position
    ) = 1
),

addressable as (
    select
        chosen.customer_id,
        chosen.audience,
        chosen.priority,
        channels.channel,
        channels.preference
    from chosen
    join people using (customer_id)
    join channels using (audience)
    left join member_ids using (customer_id)
    where chosen.customer_id not in (select customer_id from members where holdout)
        and chosen.customer_id not in (select customer_id from earlier_offers)
        and case channels.channel
            when 'email' then people.email is not null
            when 'sms' then people.phone is not null
            when 'in_game' then member_ids.member_id is not null
            else false
        end
),

final as (
    select
        $as_of::date as as_of,
        customer_id,
        audience,
        priority,
        channel,
        $run_id as run_id
    from addressable
    qualify row_number() over (partition by customer_id order by preference) = 1
)

select * from final

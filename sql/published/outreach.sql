-- Today's outreach list: who to contact for which audience, on which channel. One offer per customer
-- per offer window.
-- Grain: one row per customer_id listed on $as_of. Key: as_of, customer_id.
-- Parameters: $as_of, $run_id, $window_days (act.offer_window_days), $member_sources (customers sources, in
-- config order: the in-game id is the customer's record id in the first one that has it).
-- Filled in: people (marketing_people.sql: consent given, not suppressed), member_ids (member_ids.sql).
-- Rules, in order: held out of any audience they are in that day, a customer is listed nowhere (a
-- contact from another audience would spoil that audience's comparison); offered anything on another
-- published day less than $window_days days away (before or after: a rerun of an earlier day), they are
-- not listed; otherwise they are listed for the audience of the highest priority (then the one listed
-- first in the config) that can reach them, on the first of its channels with an address (email, phone,
-- in-game id; wechat needs a wechat_openid field and has none yet).
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

other_offers as (
    -- offers of the published days within the window on either side (a rerun of an earlier day must
    -- not offer again what a later day already offered)
    select distinct customer_id
    from published.outreach
    where as_of <> $as_of
        and as_of > $as_of::date - $window_days
        and as_of < $as_of::date + $window_days
),

member_ids as (
{{member_ids}}
),

reachable as (
    -- every (audience, channel) on which a customer could be offered something today
    select
        members.customer_id,
        members.audience,
        audiences.priority,
        audiences.position,
        channels.channel,
        channels.preference
    from members
    join audiences using (audience)
    join channels using (audience)
    join people using (customer_id)
    left join member_ids using (customer_id)
    -- people (marketing_people.sql) has no one held out of an audience that day
    where members.customer_id not in (select customer_id from other_offers)
        and case channels.channel
            when 'email' then people.email is not null
            when 'sms' then people.phone is not null
            when 'in_game' then member_ids.member_id is not null
            else false
        end
),

final as (
    -- the audience of the highest priority (then the first listed) that can reach them, on its first channel
    select
        $as_of::date as as_of,
        customer_id,
        audience,
        priority,
        channel,
        $run_id as run_id
    from reachable
    qualify row_number() over (
        partition by customer_id
        order by priority desc, position, preference
    ) = 1
)

select * from final

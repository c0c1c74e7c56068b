-- Members of each configured audience on the day being computed, with their holdout flag and entry day.
-- Grain: one row per (audience, customer_id). Key: audience, customer_id.
-- Parameters: $as_of, $previous (the previous published day, or null), $salt (act.holdout_salt).
-- Members: the customers of the audience's segment (act.segment_memberships), or of its lookalike
-- audience (act.lookalike_scores.in_audience). Holdout: md5 of salt|audience|customer_id read as a
-- number in [0, 1) is below the audience's holdout_share, so a customer is in or out of an audience's
-- holdout every day whatever else changes, and each audience draws its own group; a new salt draws
-- new groups. entered_on: kept from the previous published day when the customer was a member on it,
-- else $as_of (a customer who leaves and comes back enters again).
with audiences as (
    select * from act.audiences
),

memberships as (
    select * from act.segment_memberships
),

lookalikes as (
    select
        lookalike,
        customer_id
    from act.lookalike_scores
    where in_audience
),

previous as (
    select
        audience,
        customer_id,
        entered_on
    from published.audience_members
    where as_of = $previous
),

candidates as (
    select
        audiences.audience,
        memberships.customer_id
    from audiences
    join memberships
        on memberships.scheme = audiences.scheme
        and memberships.segment = audiences.segment
    union
    select
        audiences.audience,
        lookalikes.customer_id
    from audiences
    join lookalikes
        on audiences.scheme = 'lookalike'
        and lookalikes.lookalike = audiences.segment
),

drawn as (
    select
        audience,
        customer_id,
        cast(md5_number($salt || '|' || audience || '|' || customer_id) % 1000000 as integer) / 1000000.0
            as holdout_draw
    from candidates
),

final as (
    select
        drawn.audience,
        drawn.customer_id,
        drawn.holdout_draw < audiences.holdout_share as holdout,
        coalesce(previous.entered_on, $as_of::date) as entered_on
    from drawn
    join audiences using (audience)
    left join previous using (audience, customer_id)
)

select * from final

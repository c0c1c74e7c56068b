-- Size of each configured audience on the day being computed: members, held out, entered and exited
-- since the previous published day.
-- Grain: one row per audience of act.audiences. Key: audience. Parameters: $as_of, $previous.
with audiences as (
    select * from act.audiences
),

members as (
    select * from act.audience_members
),

previous as (
    select * from published.audience_members
    where as_of = $previous
),

counts as (
    select
        audience,
        count(*) as members,
        count(*) filter (where holdout) as holdout,
        count(*) filter (where entered_on = $as_of::date) as entered
    from members
    group by audience
),

exits as (
    select
        previous.audience,
        count(*) as exited
    from previous
    anti join members using (audience, customer_id)
    group by previous.audience
),

final as (
    select
        audiences.audience,
        audiences.label_zh,
        audiences.label_en,
        audiences.scheme || ':' || audiences.segment as segment,
        audiences.holdout_share,
        coalesce(counts.members, 0) as members,
        coalesce(counts.holdout, 0) as holdout,
        coalesce(counts.entered, 0) as entered,
        coalesce(exits.exited, 0) as exited
    from audiences
    left join counts using (audience)
    left join exits using (audience)
    order by audiences.position
)

select * from final

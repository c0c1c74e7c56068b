-- Rows to publish for one as_of: the day's audience members (act.audience_members) stamped with the run.
-- Grain: one row per (audience, customer_id). Key: as_of, audience, customer_id. Parameters: $as_of, $run_id.
with members as (
    select * from act.audience_members
),

final as (
    select
        $as_of::date as as_of,
        audience,
        customer_id,
        holdout,
        entered_on,
        $run_id as run_id
    from members
)

select * from final

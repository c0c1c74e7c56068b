-- The transactions, events and feedback a run staged from its new files that fall on days already published
-- before the day it computes: late rows, left out of those days as published (a backfill with overwrite
-- publishes them again with the rows; the run's own day and later ones count them). Local dates (the
-- connection's time zone). Partial days are not counted: the run recomputes them (flows/daily_refresh.py).
-- New files: those the run loaded first (audit.load_state keeps a file's first load time when it is rewritten or
-- read again by a full refresh: a cumulative export rewritten daily, or a reload, is not late).
-- Grain: one row per (kind, source). Key: kind, source. Parameters: $run_id, $as_of, $started (the run's start),
-- $partial (the published days whose latest publish was partial).
with new_files as (
    select source, file
    from audit.load_state
    where run_id = $run_id
        and loaded_at >= $started
),

-- the days published complete: a partial one is published again by the run ($partial: published/partial_days.sql)
published_days as (
    select distinct as_of
    from published.runs
    where not list_contains($partial::date[], as_of)
),

staged as (
    select 'transactions' as kind, source, _file, cast(ts as date) as local_day from staging.transactions
    union all
    select 'events', source, _file, cast(ts as date) from staging.events
    union all
    select 'feedback', source, _file, cast(ts as date) from staging.feedback
),

final as (
    select
        staged.kind,
        staged.source,
        count(*) as rows,
        count(distinct staged.local_day) as days,
        min(staged.local_day) as first_day,
        max(staged.local_day) as last_day
    from staged
    join new_files
        on new_files.source = staged.source
        and new_files.file = staged._file
    join published_days
        on published_days.as_of = staged.local_day
    where staged.local_day < $as_of
    group by staged.kind, staged.source
)

select * from final
order by kind, source

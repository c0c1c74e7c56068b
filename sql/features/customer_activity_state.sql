-- What features.record_activity and features.customer_activity hold: the day, the settings and the roll-up
-- they were computed from. A run whose roll-up or settings differ from these builds them whole
-- (tasks/features/customer_activity.py).
-- Grain: one row. Parameters: $version (of tasks/features/customer_activity.py), $settings (a fingerprint of
-- features/record_activity.sql, the session types and the half-life), $as_of (date), $half_life_days (double)
-- and $play_epoch (date): what the records' session_weight is weighed with, $generation
-- (features.activity_state's generation it was computed from), $rollup_rows (the roll-up's rows then).
with final as (
    select
        $version::integer as version,
        $settings::varchar as settings,
        $as_of::date as as_of,
        $half_life_days::double as half_life_days,
        $play_epoch::date as play_epoch,
        $generation::bigint as generation,
        $rollup_rows::bigint as rollup_rows,
        now() as refreshed_at
)

select * from final

-- What features.daily_activity was last brought up to date with: a run with other settings rebuilds it.
-- Grain: one row. Parameters: $version (of the roll-up code, tasks/features/activity.py), $timezone
-- (the warehouse's: activity dates are local dates), $settings (a fingerprint of what maps a staged event
-- to its record: the core.events view's definition and the config behind its lookups), $files (the
-- files rolled up), $generation (how many times the roll-up's rows changed: a table computed from it,
-- features.record_activity, is usable only with the generation it was computed from).
with final as (
    select
        $version::integer as version,
        $timezone::varchar as timezone,
        $settings::varchar as settings,
        $files::bigint as files,
        $generation::bigint as generation,
        now() as refreshed_at
)

select * from final

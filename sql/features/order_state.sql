-- What features.orders was last brought up to date with: a run with other settings, or of an earlier
-- day, rebuilds it.
-- Grain: one row. Parameters: $version (of the orders code, tasks/features/orders.py), $timezone (the
-- warehouse's: order dates are local dates), $settings (a fingerprint of the core.transactions view, the
-- config behind its lookups, the currency and the amounts' scale), $as_of and $cutoff (the day the
-- orders are netted as of, and its exclusive end).
with final as (
    select
        $version::integer as version,
        $timezone::varchar as timezone,
        $settings::varchar as settings,
        $as_of::date as as_of,
        $cutoff::timestamptz as cutoff,
        now() as refreshed_at
)

select * from final

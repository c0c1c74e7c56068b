-- Table: core.record_state, what core.customer_records and core.record_observations were last built with
-- (tasks/dedupe/records.py): a run with other settings, or finding fewer or more rows than the last run left
-- (an erasure), builds them whole again; the cutoff is where the next run's changes are counted from.
-- Grain: one row. Parameters: $version (of the code), $settings (a fingerprint of the models' text, the
-- staged columns and the lookups' versions), $cutoff (the run's), $records and $observations (the tables' rows).
with final as (
    select
        $version::integer as version,
        $settings::varchar as settings,
        $cutoff::timestamptz as cutoff,
        $records::bigint as records,
        $observations::bigint as observations
)

select * from final

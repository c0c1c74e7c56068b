-- Table: core.fact_observation_state, what core.fact_observations was last brought up to date with: a run
-- with other settings, or finding fewer or more rows than it left (an erasure), rebuilds it.
-- Grain: one row. Parameters: $version (of the code, tasks/dedupe/observations.py), $settings (a fingerprint
-- of what maps a staged fact to its record and keys: the core fact views and the lookups' config), $rows
-- (of core.fact_observations).
with final as (
    select
        $version::integer as version,
        $settings::varchar as settings,
        $rows::bigint as rows
)

select * from final

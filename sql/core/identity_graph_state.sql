-- What the kept record graph (core.identity_overshared, core.identity_two_people, core.identity_oversized, and
-- core.identity_map as the last run's components) was built with: the code's version, the settings (the rule
-- that says which key values two people hold: tasks.dedupe.touched.people_rule), and the number of dedupe
-- runs recorded then (core.identity_runs): a run in between that did not write it (another version, a
-- backfill) leaves a count that no longer matches, and the next run links every record.
-- Grain: one row. Parameters: $version, $max_key_records, $max_cluster_size, $people_rule, $runs, $as_of.
with final as (
    select
        $version::integer as version,
        $max_key_records::bigint as max_key_records,
        $max_cluster_size::bigint as max_cluster_size,
        $people_rule::varchar as people_rule,
        $runs::bigint as runs,
        $as_of::date as as_of
)

select * from final

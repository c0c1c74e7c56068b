-- Table: core.golden_state, what the golden record (core.customers) was last built with.
-- Grain: one row. Key: none. Parameters: $source_priority (list of source names), $version (of the golden
-- record's code, tasks/dedupe/golden.py), $customers (rows of core.customers after the build).
-- A later run recomputes only the customers whose inputs changed when these still hold.
with final as (
    select
        $source_priority::varchar[] as source_priority,
        $version::integer as version,
        $customers::bigint as customers
)

select * from final

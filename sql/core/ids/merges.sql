-- The merge events of a forward run (into core.merge_history).
-- Grain: one row per merged customer_id. Key: merged_customer_id. Parameters: $as_of, $run_id.
-- Input: temp table _merges(merged_customer_id, surviving_customer_id, records, match_rules).
with merges as (
    select * from _merges
),

final as (
    select
        $as_of::date as as_of,
        $run_id::varchar as run_id,
        merged_customer_id,
        surviving_customer_id,
        records,
        match_rules
    from merges
)

select * from final

-- The split events of a forward run (into core.split_history).
-- Grain: one row per (customer_id, new_customer_id). Key: customer_id, new_customer_id. Parameters: $as_of, $run_id.
-- Input: temp table _splits(customer_id, new_customer_id, records).
with splits as (
    select * from _splits
),

final as (
    select
        $as_of::date as as_of,
        $run_id::varchar as run_id,
        customer_id,
        new_customer_id,
        records
    from splits
)

select * from final

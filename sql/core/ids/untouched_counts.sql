-- The records and customers of core.identity_map (the last run's) that a run re-resolving the touched
-- records (_touched) keeps as they are: with the touched ones, this run's counts (core.identity_runs).
-- Grain: one row. Parameters: none.
with identity as (
    select * from core.identity_map
),

touched as (
    select * from _touched
),

kept as (
    select * from identity
    where (source, source_id) not in (select (record_source, record_id) from touched)
),

final as (
    select
        count(*) as records,
        count(distinct customer_id) as customers
    from kept
)

select * from final

-- Whether core.customers can be brought up to date customer by customer (tasks/dedupe/golden.py): the
-- golden state's settings, and the customers it recorded against those core.customers holds (fewer when an
-- erasure deleted rows since). Grain: one row. Key: none. Parameters: none.
with state as (
    select * from core.golden_state
),

held as (
    select count(*) as customers from core.customers
),

final as (
    select
        state.source_priority,
        state.version,
        state.customers as expected,
        held.customers as held
    from state
    cross join held
)

select * from final

-- The records to add to the touched set (_touched) so that it holds whole components: the other records
-- of the last run's customers of touched records (core.identity_map, not yet updated), of the customers
-- the touched records had in the id state (core.identity_state, through merges: _redirects), and of the
-- last run's oversized clusters (core.identity_oversized) with a touched record. tasks/dedupe/touched.py
-- inserts them until none is left.
-- Grain: one row per record not yet touched. Key: record_source, record_id. Parameters: none.
with touched as (
    select * from _touched
),

identity as (
    select * from core.identity_map
),

state as (
    select * from core.identity_state
),

redirects as (
    select * from _redirects
),

oversized as (
    select * from core.identity_oversized
),

customers as (
    select customer_id
    from identity
    where (source, source_id) in (select (record_source, record_id) from touched)
    union
    select coalesce(redirects.current_customer_id, state.customer_id) as customer_id
    from state
    left join redirects using (customer_id)
    where (state.source, state.source_id) in (select (record_source, record_id) from touched)
),

clusters as (
    select distinct
        record_source as anchor_source,
        record_id as anchor_id
    from oversized
    where (source, source_id) in (select (record_source, record_id) from touched)
),

wanted as (
    select
        source as record_source,
        source_id as record_id
    from identity
    where customer_id in (select customer_id from customers)
    union
    select
        source,
        source_id
    from oversized
    where (record_source, record_id) in (select (anchor_source, anchor_id) from clusters)
),

final as (
    select * from wanted
    where (record_source, record_id) not in (select (record_source, record_id) from touched)
)

select * from final

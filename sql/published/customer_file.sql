-- The rows of the day's customer files (customer_segments.parquet and .csv): the published row of each
-- customer, with the ids its sources know it by, so that a list can be matched back to the CRM or the shop.
-- Grain: one row per customer_id published on $as_of. Key: customer_id.
-- Parameters: $as_of.
-- Filled in: {{segments}} (published.customer_segments, or the work table of a sharded publish), {{rows}} (a
-- condition on it: true, or a shard's range of customer ids).
-- source_ids: 'source:id' of each of the customer's records whose id a source gave (a customers source's
-- source_id, a fact's customer_ref), sorted and joined with ';'. Records made from a fact's email, phone or
-- device id or its row (core/facts.sql: 'email:', 'phone:', 'device:', 'row:') carry no such id and are left
-- out: their ids are personal data or mean nothing outside the warehouse. Null: no source gave an id.
with segments as (
    select * from {{segments}}
    where as_of = $as_of and {{rows}}
),

identity as (
    select * from core.identity_map
    where customer_id in (select customer_id from segments)  -- a shard reads its own customers' records
),

given_ids as (
    select
        customer_id,
        string_agg(source || ':' || source_id, ';' order by source, source_id) as source_ids
    from identity
    where not regexp_matches(source_id, '^(email|phone|device|row):')
    group by customer_id
),

final as (
    select
        segments.as_of,
        segments.customer_id,
        given_ids.source_ids,
        segments.* exclude (as_of, customer_id, run_id)
    from segments
    left join given_ids on given_ids.customer_id = segments.customer_id
)

select * from final
order by customer_id

-- The rows of the day's customer files (customer_segments.parquet and .csv): the published row of each
-- customer, with the ids its sources know it by (source_ids.sql), so that a list can be matched back to the
-- CRM or the shop.
-- Grain: one row per customer_id published on $as_of. Key: customer_id.
-- Parameters: $as_of.
-- Filled in: {{segments}} (published.customer_segments, or the work table of a sharded publish), {{rows}} (a
-- condition on it: true, or a shard's range of customer ids), {{source_ids}} (source_ids.sql over segments).
with segments as (
    select * from {{segments}}
    where as_of = $as_of and {{rows}}
),

given_ids as (
{{source_ids}}
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

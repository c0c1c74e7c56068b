-- The identity map rows the golden record is built from this run: every row ($all), or the rows of the
-- customers whose inputs changed since the last run (_golden_dirty, core/golden_dirty.sql).
-- Grain: one row per customer record. Key: source, source_id. Parameters: $all (boolean).
-- Built into the temp table _golden_identity by tasks/dedupe/golden.py.
with identity as (
    select * from core.identity_map
),

dirty as (
    select * from _golden_dirty
),

final as (
    select *
    from identity
    where $all
        or customer_id in (select customer_id from dirty)
)

select * from final

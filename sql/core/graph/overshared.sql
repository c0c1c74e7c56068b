-- Key values too common to link on, most shared first (reported, never used).
-- Grain: one row per (key, value), the 20 most shared. Key: key, value. Parameters: none.
-- {{keys}}: key, value, records of the values above max_key_records only (core/identity_overshared.sql):
-- this run's (_overshared, tasks/dedupe/graph.py) or those kept from run to run (core.identity_overshared).
with overshared as (
    select * from {{keys}}
),

final as (
    select
        key,
        value,
        records
    from overshared
)

select * from final
order by records desc, key, value
limit 20

-- Key values too common to link on, most shared first (reported, never used).
-- Grain: one row per (key, value) of more than $max_key_records records, the 20 most shared.
-- Key: key, value. Parameters: $max_key_records. {{keys}}: key, value, records: _link_keys (graph/keys.sql),
-- or core.identity_overshared (kept from run to run).
with shared_keys as (
    select * from {{keys}}
),

final as (
    select
        key,
        value,
        records
    from shared_keys
    where records > $max_key_records
)

select * from final
order by records desc, key, value
limit 20

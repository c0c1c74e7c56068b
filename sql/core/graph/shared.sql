-- The shared key values dedupe links on: nodes of the record graph too, numbered after the records.
-- Grain: one row per (key, value) of 2 to $max_key_records records. Key: key_node (also key, value).
-- Parameters: $max_key_records (a value on more records is too common to link on), $first_key_node
-- (the number of records). Input: _link_keys (graph/keys.sql).
-- {{apart}}: key, value of the values two people hold (tasks/dedupe/households.py), not linked on either.
with shared_keys as (
    select * from _link_keys
),

apart as (
    select key, value from {{apart}}
),

linking as (
    select
        key,
        value
    from shared_keys
    anti join apart using (key, value)
    where records <= $max_key_records
),

final as (
    select
        key,
        value,
        $first_key_node + row_number() over (order by key, value) - 1 as key_node
    from linking
)

select * from final

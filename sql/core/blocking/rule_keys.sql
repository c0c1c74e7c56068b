-- The blocking key of each record under one rule: the values of the rule's columns, joined.
-- Grain: one row per record (node) that has every column of the rule. Key: node.
-- Parameters: $rule (its name). {{columns}}: the rule's prepared columns (tasks.shared.contracts.BLOCKING_RULES).
-- Input: _prepared, the matcher's prepared records (a frame registered by tasks/dedupe/blocking.py).
-- block_size counts the records sharing the key, so that blocks too large to compare can be skipped.
with prepared as (
    select * from _prepared
),

keyed as (
    select
        $rule as rule,
        node,
        grp,
        concat_ws(chr(31), {{columns}}) as key
    from prepared
    where list_count([{{columns}}]) = len([{{columns}}])  -- no column of the rule is null
),

final as (
    select
        rule,
        node,
        grp,
        key,
        count(*) over (partition by key) as block_size
    from keyed
)

select * from final

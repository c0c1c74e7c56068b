-- Candidate pairs of the matcher: two records in one block of at least one rule, each pair once.
-- Grain: one row per pair of nodes. Key: left, right (left < right).
-- Parameters: $max_block_size (a larger block is skipped: its pairs grow quadratically and say little),
-- $rules (the rules chosen: see tasks/dedupe/blocking.py).
-- Input: _blocking_keys (blocking/keys.sql).
with blocking_keys as (
    select * from _blocking_keys
),

usable as (
    select
        rule,
        key,
        node
    from blocking_keys
    where block_size between 2 and $max_block_size
        and list_contains($rules, rule)
),

final as (
    select distinct
        a.node as left,
        b.node as right
    from usable as a
    join usable as b
        on a.rule = b.rule
        and a.key = b.key
        and a.node < b.node
)

select * from final
order by all

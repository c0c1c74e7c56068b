-- Candidate pairs of the matcher: two records in one block of at least one rule, each pair once.
-- Grain: one row per pair of nodes. Key: left, right (left < right).
-- Parameters: $max_block_size (a larger block is skipped: its pairs grow quadratically and say little),
-- $rules (the rules chosen: see tasks/dedupe/blocking.py), $link_type (link_only: records of different
-- sources only; dedupe_only: of the same source; link_and_dedupe: any two).
-- Input: _blocking_keys (blocking/keys.sql).
with blocking_keys as (
    select * from _blocking_keys
),

usable as (
    select
        rule,
        key,
        node,
        grp
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
        and case $link_type
            when 'link_only' then a.grp <> b.grp
            when 'dedupe_only' then a.grp = b.grp
            else true
        end
)

select * from final
order by all

-- The pairs each blocking rule would propose, counted before any is chosen (Splink's
-- count_comparisons_from_blocking_rule): per key of 2 to $max_block_size records, the pairs the link type
-- compares: n (n - 1) / 2; across sources only (link_only) (n^2 - sum of n_source^2) / 2; within one
-- (dedupe_only) the sum of n_source (n_source - 1) / 2.
-- Grain: one row per rule with keys. Key: rule. Parameters: $max_block_size, $link_type.
-- Input: _blocking_keys (blocking/keys.sql).
with blocking_keys as (
    select * from _blocking_keys
),

sources as (
    select
        rule,
        key,
        grp,
        count(*) as records
    from blocking_keys
    where block_size between 2 and $max_block_size
    group by rule, key, grp
),

blocks as (
    select
        rule,
        key,
        sum(records) as records,
        sum(records * records) as squares,
        sum(records * (records - 1) // 2) as within
    from sources
    group by rule, key
),

final as (
    select
        rule,
        sum(
            case $link_type
                when 'link_only' then (records * records - squares) // 2
                when 'dedupe_only' then within
                else records * (records - 1) // 2
            end
        )::bigint as pairs
    from blocks
    group by rule
)

select * from final

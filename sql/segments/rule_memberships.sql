-- The rule segments each customer is in: every match, except that in an exclusive group only the best counts.
-- Grain: one row per customer_id and rule segment. Key: customer_id, segment. Parameters: none.
-- Reads _rule_matches, the scratch table of every rule's matches (sql/ops/rule_matches.sql). Within an
-- exclusive group (a rule without one is a group of its own) the highest priority wins; ties go to the
-- alphabetically first segment.
with matches as (
    select * from _rule_matches
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id, coalesce(exclusive_group, segment)
            order by priority desc, segment
        ) as n
    from matches
),

final as (
    select
        customer_id,
        segment,
        label_en,
        label_zh,
        priority,
        exclusive_group
    from ranked
    where n = 1
)

select * from final

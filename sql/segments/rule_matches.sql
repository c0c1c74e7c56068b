-- The customers one rule segment matches, with the rule's name, labels, priority and exclusive group.
-- Grain: one row per customer_id the rule's condition holds for. Key: customer_id.
-- Parameters: $segment, $label_en, $label_zh, $priority, $exclusive_group, and the rule's values ($v0, $v1 ...).
-- {{condition}}: the rule compiled by tasks.shared.rules.compile_rule (allowlisted, quoted feature columns
-- and bound values, never rule text). Reads rule_inputs, the view of sql/segments/rule_inputs.sql that the
-- segment stage creates while it evaluates the rules.
with inputs as (
    select * from rule_inputs
),

final as (
    select
        customer_id,
        $segment as segment,
        $label_en as label_en,
        $label_zh as label_zh,
        $priority::integer as priority,
        $exclusive_group::varchar as exclusive_group
    from inputs
    where {{condition}}
)

select * from final

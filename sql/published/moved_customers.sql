-- The published rows, on $as_of and on $previous, of the customers whose segments may differ between
-- the two days: the only customers who can have entered or exited a segment (publish_changes).
-- Grain: one row per (as_of, customer_id). Parameters: $as_of, $previous (null on the first publish:
-- every customer of $as_of).
-- Compared: the columns segment_memberships.sql reads (a scheme added there is added here too); a
-- customer whose columns are all equal on both days is in the same segments on both.
with now as (
    select * from published.customer_segments
    where as_of = $as_of
),

before as (
    select * from published.customer_segments
    where as_of = $previous
),

moved as (
    select coalesce(now.customer_id, before.customer_id) as customer_id
    from now
    full join before on before.customer_id = now.customer_id
    where now.customer_id is null
        or before.customer_id is null
        or (now.rfm_segment, now.rfm_cn_class, now.value_tier, now.lifecycle_stage, now.rule_segments, now.cluster_id)
            is distinct from
            (before.rfm_segment, before.rfm_cn_class, before.value_tier, before.lifecycle_stage, before.rule_segments, before.cluster_id)
),

final as (
    select published.*
    from published.customer_segments as published
    semi join moved using (customer_id)
    where published.as_of = $as_of or published.as_of = $previous
)

select * from final

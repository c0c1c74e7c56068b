-- The kept record graph's state row (core.identity_graph_state): version, settings and the runs counted.
-- Grain: one row. Parameters: none.
with state as (
    select * from core.identity_graph_state
),

final as (
    select
        version,
        max_key_records,
        max_cluster_size,
        people_rule,
        runs
    from state
)

select * from final

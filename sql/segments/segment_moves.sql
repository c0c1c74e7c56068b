-- The customers of both days whose segment of one scheme changed: segments.segment_moves, one scheme at
-- a time (tasks/segment/stability.py appends each scheme's moves).
-- Grain: one row per customer_id that moved. Key: customer_id. Parameters: $scheme (its name).
-- {{column}}: the scheme's column (tasks.shared.contracts.SCHEME_COLUMNS, an allowlist). Reads
-- _segment_pairs (segments/segment_pairs.sql); '(none)' is a segment like any other.
with pairs as (
    select * from _segment_pairs
),

final as (
    select
        $scheme::varchar as scheme,
        customer_id,
        pairs.previous.{{column}} as previous,
        pairs.current.{{column}} as current
    from pairs
    where pairs.previous.{{column}} <> pairs.current.{{column}}
)

select * from final

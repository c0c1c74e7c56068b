-- Each compared scheme's segment of every customer on the previous published day and on the day built:
-- what the stability report (tasks/segment/stability.py) counts, built once as the temp table
-- _segment_pairs and read per scheme (segments/scheme_pairs.sql, segments/segment_moves.sql).
-- Grain: one row per customer_id of either day. Key: customer_id.
-- Parameters: $previous_as_of (the previous published day), $columns (the compared columns of
-- segments.customer_segments, tasks.shared.contracts.SCHEME_COLUMNS that the previous day has too).
-- previous and current are structs of the compared columns as text, '(none)' for a missing value (no
-- rule segment, say: a segment of its own); every field is null on the day a customer is not in.
with previous as (
    select
        customer_id,
        coalesce(columns(lambda c: list_contains($columns, c))::varchar, '(none)')
    from published.customer_segments
    where as_of = $previous_as_of
),

current as (
    select
        customer_id,
        coalesce(columns(lambda c: list_contains($columns, c))::varchar, '(none)')
    from segments.customer_segments
),

final as (
    select
        customer_id,
        previous,
        current
    from previous
    full join current using (customer_id)
)

select * from final

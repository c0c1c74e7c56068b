-- How many customers each pair of one scheme's segments holds: the previous day's and the day's.
-- Grain: one row per (previous, current) pair present. Key: previous, current. Parameters: none.
-- {{column}}: the scheme's column (tasks.shared.contracts.SCHEME_COLUMNS, an allowlist). Reads
-- _segment_pairs (segments/segment_pairs.sql). previous or current is null for the customers of one
-- day only: they count in that day's sizes and are not compared.
with pairs as (
    select * from _segment_pairs
),

final as (
    select
        pairs.previous.{{column}} as previous,
        pairs.current.{{column}} as current,
        count(*) as customers
    from pairs
    group by all
)

select * from final

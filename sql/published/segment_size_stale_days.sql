-- The published days whose stored segment sizes (published.segment_size_days) are missing or stale: the day's
-- published rows are not as many as when they were counted (a day published again, a person erased from it),
-- or another version of sql/published/segment_sizes_by_day.sql counted them; and as_of itself, being
-- published now (a day published again may keep its row count). Stored days no longer published come too
-- (their sizes are removed).
-- Grain: one row per as_of. Key: as_of. Parameters: $as_of, $model (the hash of segment_sizes_by_day.sql's
-- text).
-- day_rows: the day's published rows now (0: none).
with published_days as (
    select
        as_of,
        count(*) as day_rows
    from published.customer_segments
    group by as_of
),

stored as (
    select distinct
        as_of,
        day_rows,
        model
    from published.segment_size_days
),

final as (
    select
        coalesce(published_days.as_of, stored.as_of) as as_of,
        coalesce(published_days.day_rows, 0) as day_rows
    from published_days
    full join stored using (as_of)
    where coalesce(published_days.as_of, stored.as_of) = $as_of
        or stored.as_of is null
        or published_days.as_of is null
        or stored.day_rows is distinct from published_days.day_rows
        or stored.model is distinct from $model
)

select * from final

-- Every published day, to count the segment sizes of when published.segment_size_days is created.
-- Grain: one row per as_of. Key: as_of. Parameters: none. day_rows: the day's published rows.
with segments as (
    select * from published.customer_segments
),

final as (
    select
        as_of,
        count(*) as day_rows
    from segments
    group by as_of
)

select * from final

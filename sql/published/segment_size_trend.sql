-- Sizes of the segments of every scheme on every published day up to one as_of, with their Chinese and
-- English labels (the report's size bars, of the as_of, and its trend panels, of every day).
-- Grain: one row per (as_of, scheme, segment). Key: as_of, scheme, segment. Parameters: $as_of.
-- Read from published.segment_size_days, each day's sizes as sql/published/segment_sizes_by_day.sql counts
-- them from the day's published rows (tasks/publish/sizes.py brings stale days up to date first).
with sizes as (
    select * from published.segment_size_days
    where as_of <= $as_of
),

final as (
    select
        as_of,
        scheme,
        segment,
        label_zh,
        label_en,
        no_purchase,
        customers
    from sizes
    order by as_of, scheme, customers desc, segment
)

select * from final

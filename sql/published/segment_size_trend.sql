-- Sizes of the RFM segments of every published day up to one as_of (the report's trend chart).
-- Grain: one row per (as_of, rfm_segment) ('(not scored)': customers without a purchase). Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of <= $as_of
),

labelled as (
    select
        as_of,
        coalesce(rfm_segment, '(not scored)') as rfm_segment
    from segments
),

final as (
    select
        as_of,
        rfm_segment,
        count(*) as customers
    from labelled
    group by all
    order by as_of, rfm_segment
)

select * from final

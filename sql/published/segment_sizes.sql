-- Sizes of the RFM segments of one published day, largest first.
-- Grain: one row per segment ('(not scored)': customers without a purchase). Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
),

final as (
    select
        coalesce(rfm_segment, '(not scored)') as rfm_segment,
        any_value(rfm_segment_zh) as rfm_segment_zh,
        count(*) as customers
    from segments
    group by all
    order by customers desc, rfm_segment
)

select * from final

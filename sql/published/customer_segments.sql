-- Rows to publish for one as_of: the day's segments stamped with the run that made them.
-- Grain: one row per customer_id. Key: as_of, customer_id. Parameters: $run_id.
with segments as (
    select * from segments.customer_segments
),

final as (
    select
        segments.*,
        $run_id as run_id
    from segments
)

select * from final

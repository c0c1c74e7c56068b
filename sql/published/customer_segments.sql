-- Rows to publish for one as_of: the day's segments stamped with the run that made them.
-- Grain: one row per customer_id. Key: as_of, customer_id. Parameters: $run_id.
-- recommended_items: the act stage's recommendations (act.recommended_items), best first, comma separated.
with segments as (
    select * from segments.customer_segments
),

recommended as (
    select * from act.recommended_items
),

final as (
    select
        segments.*,
        recommended.recommended_items,
        $run_id as run_id
    from segments
    left join recommended using (customer_id)
)

select * from final

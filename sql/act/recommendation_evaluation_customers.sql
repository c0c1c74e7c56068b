-- The customers a time-split evaluation recommends to: those who took up an item, without a segment.
-- Grain: one row per customer_id. Key: customer_id. Parameters: none.
-- Identifiers: {{truth}}, a table of act/recommendation_truth.
-- The segments of the day would tell what happened after the fit day, so the evaluation does without them:
-- places the similar items leave are filled from overall popularity.
with truth as (
    select * from {{truth}}
),

final as (
    select distinct
        customer_id,
        null::varchar as rfm_segment
    from truth
)

select * from final

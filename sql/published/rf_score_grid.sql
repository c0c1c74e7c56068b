-- Scored customers of one published day by R score and F score (the report's heatmap).
-- Grain: one row per (r_score, f_score) with any customer. Parameters: $as_of.
with segments as (
    select * from published.customer_segments
    where as_of = $as_of
        and r_score is not null
),

final as (
    select
        r_score,
        f_score,
        count(*) as customers
    from segments
    group by all
    order by r_score, f_score
)

select * from final

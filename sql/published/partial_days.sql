-- Published days whose latest publish was partial (its data still incomplete), oldest first: the days a
-- later run should publish again.
-- Grain: one row per as_of. Parameters: none.
with runs as (
    select * from published.runs
),

latest as (
    select
        as_of,
        partial
    from runs
    qualify row_number() over (partition by as_of order by published_at desc, run_id desc) = 1
),

final as (
    select as_of
    from latest
    where partial
    order by as_of
)

select * from final

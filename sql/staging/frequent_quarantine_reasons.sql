-- The most frequent reasons a load quarantined rows, quoted values masked ('...'), for the error message.
-- Grain: one row per masked reason, the three most frequent. Key: reason.
-- Parameters: $source, $run_id.
with quarantine as (
    select * from audit.quarantine
),

final as (
    select
        regexp_replace(reason, '''[^'']*''', '''...''', 'g') as reason,
        count(*) as n
    from quarantine
    where source = $source and run_id = $run_id
    group by 1
    order by n desc, reason
    limit 3
)

select * from final

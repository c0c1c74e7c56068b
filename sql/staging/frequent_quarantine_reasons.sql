-- The most frequent reasons a load quarantined rows, quoted values masked ('...'), for the error message,
-- each with the first row it holds (file, row_number) and that row's reason as it is (example: the caller
-- shows the quoted text of the source's own mapping, a strptime format, and masks the rest), so that the
-- message names where to look.
-- Grain: one row per masked reason, the three most frequent. Key: reason.
-- Parameters: $source, $run_id.
with quarantine as (
    select * from audit.quarantine
),

masked as (
    select
        regexp_replace(reason, '''[^'']*''', '''...''', 'g') as reason,
        reason as example,
        file,
        row_number
    from quarantine
    where source = $source and run_id = $run_id
),

grouped as (
    select
        reason,
        count(*) as n,
        min({'file': file, 'row_number': row_number, 'example': example}) as first_row
    from masked
    group by reason
),

final as (
    select
        reason,
        n,
        first_row.file as file,
        first_row.row_number as row_number,
        first_row.example as example
    from grouped
    order by n desc, reason
    limit 3
)

select * from final

-- Rows of a source dropped as a copy of, or quarantined as a conflict with, a row of files whose rows
-- were just removed (a file deleted or rewritten): checked again, so that a row another file still holds
-- is staged again (tasks.extract.duplicates.restore_orphans).
-- Grain: one row per raw row of the source's remaining files (file, row_number). Key: file, row_number.
-- Parameters: $source, $files (the files whose rows were removed).
-- A conflict's reason names the row it conflicts with (staging/mark_conflicts): '... with other values
-- than <file> row <n>'.
with duplicates as (
    select * from audit.duplicates
    where source = $source
),

conflicts as (
    select
        *,
        regexp_extract(reason, ' with other values than (.*) row [0-9]+$', 1) as kept_file
    from audit.quarantine
    where source = $source and reason like 'duplicate % with other values than % row %'
),

removed as (
    select unnest($files::varchar[]) as file
),

final as (
    select
        file,
        row_number
    from duplicates
    where kept_file in (select file from removed)
    union
    select
        file,
        row_number
    from conflicts
    where kept_file in (select file from removed)
)

select * from final

-- The kept files of a source (audit.raw_files) that hold raw rows of one run: the files it read, and those
-- with rows it checks again (audit.raw_row_marks). Grain: one row per file. Key: path.
-- Parameters: $source, $run_id.
with files as (
    select * from audit.raw_files where source = $source
),

marks as (
    select * from audit.raw_row_marks where source = $source
),

final as (
    select files.path
    from files
    where files.run_id = $run_id
        or files.file in (select marks.file from marks where marks.run_id = $run_id)
    order by files.file
)

select * from final

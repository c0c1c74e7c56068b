-- View: raw.<source> of a source whose files are read where they are (Parquet: audit.raw_files), with the
-- columns a raw table has: lineage (_source, _file, _row, _loaded_at, _run_id), then the files' own
-- columns as read (by name across files). A row an erasure hid (audit.raw_row_marks) is left out; a row
-- checked again by a later run carries that run's id.
-- Grain: one row per data row of the kept files. Key: _source, _file, _row. Parameters: none (a view).
-- Template filled by tasks/extract/kept_files.py: view names the view (raw.<source>, or a temp view of the
-- files one run read) and kind says which (view, temp view); name is the source as a SQL string; paths the
-- files' paths as a SQL list; options the source's reader options. Partition folders (key=value) are not
-- read as columns: one file read alone and a list of files would not agree on them.
create or replace {{kind}} {{view}} as
with kept as (
    select
        raw_files.file,
        raw_files.path,
        raw_files.loaded_at,
        raw_files.run_id
    from audit.raw_files as raw_files
    where raw_files.source = {{name}}
),

marks as (
    select
        raw_row_marks.file,
        raw_row_marks.raw_row,
        raw_row_marks.run_id,
        raw_row_marks.hidden
    from audit.raw_row_marks as raw_row_marks
    where raw_row_marks.source = {{name}}
),

file_rows as (
    select
        * exclude (file_row_number),
        file_row_number + 1 as _kept_row
    from read_parquet(
        {{paths}},
        filename = '_kept_path',
        file_row_number = true,
        union_by_name = true,
        hive_partitioning = false{{options}}
    )
),

final as (
    select
        {{name}} as _source,
        kept.file as _file,
        file_rows._kept_row as _row,
        kept.loaded_at as _loaded_at,
        coalesce(marks.run_id, kept.run_id) as _run_id,
        file_rows.* exclude (_kept_path, _kept_row)
    from file_rows
    inner join kept on file_rows._kept_path = kept.path
    left join marks on kept.file = marks.file and file_rows._kept_row = marks.raw_row
    where marks.hidden is not true
)

select * from final

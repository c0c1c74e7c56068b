-- Erase, after a load: the raw rows of erased people that the source's `where` left out (never staged,
-- quarantined or copies), counted per file, so that the load counts them as erased, not as filtered.
-- Grain: one row per (source, file). Key: source, file. Parameters: none.
-- Template: raw names raw.<source>; kept: the source's where (tasks.extract.staging.kept_sql).
select
    raw_rows._source as source,
    raw_rows._file as file,
    count(*) as rows_erased
from {{raw}} as raw_rows
where not {{kept}}
    and exists (
        select 1
        from _erase_lineage as lineage
        where lineage.source = raw_rows._source
            and lineage.file = raw_rows._file
            and lineage.row = raw_rows._row
    )
group by all

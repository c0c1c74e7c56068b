-- Statement: delete the staged rows (every version) of a database source read by watermark whose id a row of
-- this batch carries that the source's `where` leaves out: the row is the record's newer version, and a full
-- refresh, which reads only the newest version of each row, would stage nothing of it either.
-- Grain: deletes the rows of staging.<kind> of those ids. Parameters: $source, $run_id, $all_rows.
-- Template: kind names the staging table, id_field its id column, raw_rows the raw rows; id: the id's mapping as
-- staging types it (under try), kept: the source's where (tasks.extract.staging.kept_sql).
with left_out as (
    select {{id}} as id
    from {{raw_rows}}
    where ($all_rows or _run_id = $run_id)
        and not {{kept}}
)

delete from staging.{{kind}}
where source = $source
    and "{{id_field}}" in (
        select id
        from left_out
        where id is not null
    )

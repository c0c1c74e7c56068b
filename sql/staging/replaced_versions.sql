-- Statement: delete the staged rows of a source whose id a good row of _checked carries again (a newer version).
-- Grain: deletes one row of staging.<kind> per replaced version. Parameters: $source.
-- Template: kind names the staging table, id_field its id column.
delete from staging.{{kind}}
where source = $source
    and "{{id_field}}" in (
        select "{{id_field}}"
        from _checked
        where _reason is null and _duplicate_of is null
    )

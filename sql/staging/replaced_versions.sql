-- Statement: delete the staged rows of a source whose id a good row of _checked carries again (a newer version).
-- Grain: deletes one row of staging.<kind> per replaced version. Parameters: $source.
-- Template: kind names the staging table, id_field its id column. A good row: no reason, or an unattributed
-- one (a guest row given a customer later, or the other way round: staging/replaced_unattributed.sql deletes the
-- version staged among the unattributed rows).
delete from staging.{{kind}}
where source = $source
    and "{{id_field}}" in (
        select "{{id_field}}"
        from _checked
        where (_reason is null or starts_with(_reason, 'no customer reference')) and _duplicate_of is null
    )

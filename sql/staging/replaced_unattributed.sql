-- Statement: delete the unattributed rows of a source whose id a good row of _checked carries again (a newer
-- version), but for the batch's own unattributed rows (staged just before, tasks/extract/staging.py
-- stage_unattributed). Grain: deletes one row of staging.unattributed_<kind> per replaced version.
-- Parameters: $source. Template: kind names the staging table, id_field its id column.
delete from staging.unattributed_{{kind}}
where source = $source
    and "{{id_field}}" in (
        select "{{id_field}}"
        from _checked
        where (_reason is null or starts_with(_reason, 'no customer reference')) and _duplicate_of is null
    )
    and (_file, _row) not in (select _file, _row from _checked)

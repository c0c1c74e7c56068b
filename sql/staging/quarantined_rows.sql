-- The checked rows of one source that failed a check, with the raw row as JSON: appended to audit.quarantine.
-- Grain: one row per quarantined raw row (file, row_number). Key: source, file, row_number.
-- Parameters: $run_id, $source, $all_rows (the raw rows checked, as in staging/checked).
-- Template: raw_rows names the raw rows (as staging/checked). field: the field a reason names ('field <name>: ...'), else null.
-- A row whose only failed check is 'no customer reference' is not quarantined: it is unattributed
-- (sql/staging/unattributed_rows.sql).
with checked as (
    select * from _checked
),

raw_rows as (
    select * from {{raw_rows}}
    where $all_rows or _run_id = $run_id
),

final as (
    select
        $run_id as run_id,
        $source as source,
        checked._file as file,
        checked._row as row_number,
        nullif(regexp_extract(checked._reason, '^field ([a-z_]+):', 1), '') as field,
        checked._reason as reason,
        to_json(raw_rows)::varchar as record
    from checked
    join raw_rows
        on raw_rows._file = checked._file
        and raw_rows._row = checked._row
    where checked._reason is not null
        and not starts_with(checked._reason, 'no customer reference')
)

select * from final

-- Scratch: when each good row of _checked was made, as a version of its record (its valid_from once staged).
-- Good: no reason, or an unattributed row's only one ('no customer reference': a guest purchase, staged in
-- staging.unattributed_<kind>), so that a database source's guest rows are versions too (a copy dropped, a
-- newer version replacing the staged one wherever it is staged).
-- Grain: one row per good row of _checked (_file, _row). Key: _file, _row.
-- Parameters: $run_id, $all_rows (the raw rows checked, as in staging/checked).
-- Template filled by tasks/extract/duplicates.py: raw_rows names the raw rows (as staging/checked); version_time is SQL over
-- the checked row (checked) and its raw row's load time (loads._loaded_at): a customers source's
-- updated_at (else signup_ts, else the load time) when it maps updated_at, else the load time.
with checked as (
    select * from _checked
    where _reason is null or starts_with(_reason, 'no customer reference')
),

loads as (
    select
        _file,
        _row,
        _loaded_at
    from {{raw_rows}}
    where $all_rows or _run_id = $run_id
),

final as (
    select
        checked._file,
        checked._row,
        checked._id,
        {{version_time}} as version_time
    from checked
    join loads
        on loads._file = checked._file
        and loads._row = checked._row
)

select * from final

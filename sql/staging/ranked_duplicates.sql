-- Later rows of an id seen more than once, for a source whose rows are facts: the first row of an id wins.
-- Grain: one row per good row of _checked that is not the first of its id (_file, _row). Key: _file, _row.
-- Parameters: $source. Template filled by tasks/extract/duplicates.py: kind names the staging table,
-- id_field its id column; fingerprint (tasks/extract/staging.py) hashes a row's canonical values.
-- The first row of an id is one already staged (from an earlier file or run), else the first by arrival:
-- _file_order (tasks/extract/duplicates.py) gives each file when it was first loaded (null: in this run),
-- kept when it is rewritten, renamed or read again by a full refresh, so a full refresh keeps the row the
-- daily runs kept; then by file name and row. Only ids seen more than once (in the batch, or in the batch
-- and already staged) can have a duplicate: fingerprints are computed for those rows alone. same_values: a
-- duplicate (dropped), else a conflict (quarantined). A good row is one without a reason or an unattributed
-- one (its only reason 'no customer reference', staged in staging.unattributed_<kind>): a guest purchase
-- repeated is dropped as a copy too.
with good as (
    select *
    from _checked
    where (_reason is null or starts_with(_reason, 'no customer reference')) and _id is not null
),

-- only the source's rows with an id of the batch: the CTE is read twice, so DuckDB materializes it
staged as (
    select *
    from staging.{{kind}}
    where source = $source and "{{id_field}}" in (select _id from _checked)
    union all by name
    select *
    from staging.unattributed_{{kind}}
    where
        source = $source
        and "{{id_field}}" in (select _id from _checked)
        -- a row checked again replaces its staged copy (tasks/extract/staging.py stage_unattributed)
        and (source, _file, _row) not in (select $source, _file, _row from _checked)
),

repeated as (
    select _id
    from good
    group by _id
    having count(*) > 1
    union
    select "{{id_field}}"
    from staged
),

candidates as (
    select
        _id as id,
        {{fingerprint}} as fingerprint,
        _file,
        _row,
        0 as existing,
        null::timestamptz as recency
    from good
    where _id in (select _id from repeated)
    union all
    select
        "{{id_field}}",
        {{fingerprint}},
        _file,
        _row,
        1,
        null
    from staged
),

arrivals as (
    select
        candidates.*,
        file_order.arrived
    from candidates
    left join _file_order as file_order using (_file)
),

ranked as (
    select
        *,
        first_value(struct_pack(file := _file, "row" := _row, fingerprint := fingerprint)) over (
            partition by id order by existing desc, arrived nulls last, _file, _row
        ) as first,
        row_number() over (
            partition by id order by existing desc, arrived nulls last, _file, _row
        ) as n
    from arrivals
),

final as (
    select
        *,
        ranked.first.fingerprint = ranked.fingerprint as same_values
    from ranked
    where existing = 0 and n > 1
)

select * from final

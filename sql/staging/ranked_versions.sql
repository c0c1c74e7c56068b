-- Rows of a customers source that repeat the version of their record just before them: another copy of it.
-- Grain: one row per good row of _checked that repeats the previous version of its id (_file, _row). Key: _file, _row.
-- Parameters: $source. Template filled by tasks/extract/duplicates.py: kind names the staging table,
-- id_field its id column; fingerprint (tasks/extract/staging.py) hashes a row's canonical values.
-- A record's versions, the staged ones and the batch's good rows, are ordered by version time (a staged
-- one's valid_from, a batch row's version_time in _version_times), then file and row: arrival order does
-- not matter, so an older version read after a newer one takes its place before it. A row whose values
-- equal the version just before it is no new version: of such a run of equal versions the staged one is
-- kept (else the first), and the batch's others point at it (same_values: dropped, recorded in
-- audit.duplicates). Only ids seen more than once (in the batch, or in the batch and staged) are ranked.
-- Two versions with the same explicit updated_at and other values leave unknown which one is current: of
-- such a tie the staged version is kept (else the first by arrival, as staging/ranked_duplicates: _file_order)
-- and the batch's others are conflicts (same_values false: quarantined, naming the kept row), not versions.
with batch as (
    select
        checked.*,
        versions.version_time
    from _checked as checked
    join _version_times as versions
        on versions._file = checked._file
        and versions._row = checked._row
    where versions._id is not null
),

repeated as (
    select _id
    from batch
    group by _id
    having count(*) > 1
    union
    select "{{id_field}}"
    from staging.{{kind}}
    where source = $source and "{{id_field}}" in (select _id from batch)
),

candidates as (
    select
        _id as id,
        {{fingerprint}} as fingerprint,
        _file,
        _row,
        0 as existing,
        version_time,
        updated_at is not null as explicit_time
    from batch
    where _id in (select _id from repeated)
    union all
    select
        "{{id_field}}",
        {{fingerprint}},
        _file,
        _row,
        1,
        valid_from,
        updated_at is not null
    from staging.{{kind}}
    where source = $source and "{{id_field}}" in (select _id from repeated)
),

ties as (
    select
        candidates.*,
        first_value(
            struct_pack(file := _file, "row" := _row, fingerprint := fingerprint, explicit_time := explicit_time)
        ) over (
            partition by id, version_time
            order by existing desc, file_order.arrived nulls last, _file, _row
        ) as tie_first
    from candidates
    left join _file_order as file_order using (_file)
),

conflicts as (
    select
        *,
        struct_pack(file := tie_first.file, "row" := tie_first.row) as first,
        false as same_values
    from ties
    where existing = 0
        and explicit_time
        and tie_first.explicit_time
        and tie_first.fingerprint != fingerprint
),

ordered as (
    select
        *,
        lag(fingerprint) over (
            partition by id order by version_time nulls first, _file, _row
        ) is distinct from fingerprint as starts_run
    from candidates
    anti join conflicts using (_file, _row, existing)
),

runs as (
    select
        *,
        sum(starts_run::integer) over (
            partition by id order by version_time nulls first, _file, _row rows unbounded preceding
        ) as run
    from ordered
),

ranked as (
    select
        *,
        first_value(struct_pack(file := _file, "row" := _row)) over (
            partition by id, run order by existing desc, version_time nulls first, _file, _row
        ) as first,
        row_number() over (
            partition by id, run order by existing desc, version_time nulls first, _file, _row
        ) as n
    from runs
),

final as (
    select
        id,
        fingerprint,
        _file,
        _row,
        first,
        true as same_values
    from ranked
    where existing = 0 and n > 1
    union all
    select
        id,
        fingerprint,
        _file,
        _row,
        first,
        same_values
    from conflicts
)

select * from final

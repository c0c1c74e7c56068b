-- Older rows of an id in the batch, for a source whose newer rows replace older ones (a database fact
-- source with a watermark): the newest row of an id wins.
-- Grain: one row per good row of _checked that is not the newest of its id (_file, _row). Key: _file, _row.
-- Parameters: none. Template filled by tasks/extract/duplicates.py: fingerprint hashes a row's canonical
-- values (unused here: every older row is dropped as replaced).
-- Newest: the latest loaded (_version_times: a later batch read past the watermark), then the later row
-- (a batch is read in watermark order). The staged row of an id is replaced by the newest one
-- (tasks.extract.stage_rows); the older ones are dropped (same_values).
with batch as (
    select
        checked._id,
        checked._file,
        checked._row,
        versions.version_time
    from _checked as checked
    join _version_times as versions
        on versions._file = checked._file
        and versions._row = checked._row
    where checked._id is not null
),

repeated as (
    select _id
    from batch
    group by _id
    having count(*) > 1
),

candidates as (
    select
        _id as id,
        _file,
        _row,
        version_time
    from batch
    where _id in (select _id from repeated)
),

ranked as (
    select
        *,
        first_value(struct_pack(file := _file, "row" := _row)) over (
            partition by id order by version_time desc, _row desc, _file desc
        ) as first,
        row_number() over (partition by id order by version_time desc, _row desc, _file desc) as n
    from candidates
),

final as (
    select
        *,
        true as same_values
    from ranked
    where n > 1
)

select * from final

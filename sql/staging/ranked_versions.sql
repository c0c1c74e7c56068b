-- Older versions of an id in the batch, for a source whose rows are versions: the newest version wins.
-- Grain: one row per good row of _checked that is not the newest of its id (_file, _row). Key: _file, _row.
-- Parameters: none. Template filled by tasks/extract/duplicates.py: fingerprint hashes a row's canonical
-- values; recency is the row's update time (customers: updated_at, else signup_ts), null for other kinds.
-- Newest: the most recently updated, then the later file and row. The staged version of an id is
-- replaced by the newest one (tasks.extract.stage_rows); the older ones are dropped (same_values).
with repeated as (
    select _id
    from _checked
    where _reason is null and _id is not null
    group by _id
    having count(*) > 1
),

candidates as (
    select
        _id as id,
        {{fingerprint}} as fingerprint,
        _file,
        _row,
        0 as existing,
        {{recency}} as recency
    from _checked
    where _reason is null and _id in (select _id from repeated)
),

ranked as (
    select
        *,
        first_value(struct_pack(file := _file, row := _row, fingerprint := fingerprint)) over (
            partition by id order by existing desc, recency desc nulls last, _file desc, _row desc
        ) as first,
        row_number() over (
            partition by id order by existing desc, recency desc nulls last, _file desc, _row desc
        ) as n
    from candidates
),

final as (
    select
        *,
        true as same_values
    from ranked
    where existing = 0 and n > 1
)

select * from final

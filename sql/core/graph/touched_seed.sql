-- The records whose component may differ from the last run's: the changed records (core/changed_records.sql),
-- the records holding a changed key value that links now or linked in the last run (at most $max_key_records
-- records, core.identity_overshared holding the values that were above; and not held by two people, judged
-- now in _two_people, then in core.identity_two_people), and the two records of every
-- probabilistic link added, removed or scored otherwise. Every other record has the same edges as in the
-- last run. tasks/dedupe/touched.py closes the set over components (graph/touched_close.sql).
-- Grain: one row per record. Key: record_source, record_id. Parameters: $max_key_records.
-- Input: _changed_records, _key_holders, _key_recount, _two_people, _links_before (graph/links_before.sql),
-- _links_now.
with changed as (
    select * from _changed_records
),

holders as (
    select * from _key_holders
),

recount as (
    select * from _key_recount
),

overshared as (
    select * from core.identity_overshared
),

apart_now as (
    select * from _two_people
),

apart_before as (
    select * from core.identity_two_people
),

links_before as (
    select * from _links_before
),

links_now as (
    select * from _links_now
),

linking_holders as (
    select
        holders.record_source,
        holders.record_id
    from holders
    join recount using (key, value)
    left join overshared using (key, value)
    left join apart_now using (key, value)
    left join apart_before using (key, value)
    where (recount.records <= $max_key_records and apart_now.key is null)
        or (overshared.key is null and apart_before.key is null)
),

changed_links as (
    (select * from links_before except select * from links_now)
    union all
    (select * from links_now except select * from links_before)
),

final as (
    select
        source as record_source,
        source_id as record_id
    from changed
    union
    select * from linking_holders
    union
    select
        source_a,
        id_a
    from changed_links
    union
    select
        source_b,
        id_b
    from changed_links
)

select * from final

-- Every two customer records holding the same value of a key in $keys (a contact a household can share: not the
-- national id, one person's), for the values that link by their count (2 to $max_key_records records, every
-- holder counted) and whose customer records could be two people's: two names (the given and full name the
-- given name is read from), and two sexes or two birth dates among them, what
-- tasks.dedupe.comparisons.PersonConflict needs at least ($names_only: two names are enough, when the rule also
-- reads a match column, an age); tasks/dedupe/households.py compares each pair as the matcher does.
-- Grain: one row per (key, value, pair). Key: key, value, source_a, id_a, source_b, id_b (a before b in
-- (record_source, record_id) order). Parameters: $keys (a list of key names), $max_key_records, $names_only.
-- {{holders}}: key, value, record_source, record_id, every holder of each value given (graph/holders.sql,
-- graph/key_holders.sql).
with holders as (
    select * from {{holders}}
),

customer_records as (
    select * from core.customer_records
),

counted as (
    select
        key,
        value,
        count(*) as records
    from holders
    where list_contains($keys, key)
    group by key, value
    having count(*) between 2 and $max_key_records
),

people as (
    select
        holders.key,
        holders.value,
        counted.records,
        holders.record_source,
        holders.record_id,
        {'given': customer_records.given_name, 'full': customer_records.full_name} as name,
        customer_records.gender,
        customer_records.birth_date_norm
    from holders
    join counted using (key, value)
    join customer_records
        on customer_records.source = holders.record_source
        and customer_records.source_id = holders.record_id
),

candidates as (
    select
        key,
        value
    from people
    group by key, value
    having min(name) <> max(name)
        and ($names_only or min(gender) <> max(gender) or min(birth_date_norm) <> max(birth_date_norm))
),

held as (
    select * from people
    semi join candidates using (key, value)
),

final as (
    select
        a.key,
        a.value,
        a.records,
        a.record_source as source_a,
        a.record_id as id_a,
        b.record_source as source_b,
        b.record_id as id_b
    from held as a
    join held as b
        on a.key = b.key
        and a.value = b.value
        and (a.record_source, a.record_id) < (b.record_source, b.record_id)
)

select * from final

-- The key values two customer records both hold that records of two people hold (core.identity_two_people):
-- values the last dedupe run did not link on (tasks/dedupe/households.py), for `segments explain`.
-- Grain: one row per (key, value). Key: key, value. Parameters: $source_a, $id_a, $source_b, $id_b.
with observations as (
    select * from core.record_observations
),

apart as (
    select * from core.identity_two_people
),

keyed as (
    select
        record_source,
        record_id,
        email_norm,
        phone_norm,
        device_id
    from observations
    where (record_source = $source_a and record_id = $id_a)
        or (record_source = $source_b and record_id = $id_b)
),

key_values as (
    unpivot keyed
    on email_norm, phone_norm, device_id
    into name key value value
),

shared as (
    select
        key,
        value
    from key_values
    group by key, value
    having count(distinct (record_source, record_id)) = 2
),

final as (
    select
        shared.key,
        shared.value
    from shared
    semi join apart using (key, value)
)

select * from final
order by key, value

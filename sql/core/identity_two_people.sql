-- Table core.identity_two_people: the match key values two people hold (tasks/dedupe/households.py), not linked
-- on; kept from run to run with the record graph (tasks/dedupe/touched.py), read by `segments explain`.
-- Grain: one row per (key, value). Key: key, value. Parameters: none.
-- {{values}}: key, value, records (a run's judgement: all values, or the changed ones of a touched run).
with judged as (
    select * from {{values}}
),

final as (
    select
        key,
        value,
        records
    from judged
)

select * from final

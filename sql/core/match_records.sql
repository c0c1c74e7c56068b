-- The customer records the probabilistic matcher compares, with the fields it reads
-- (tasks.dedupe.comparisons.MATCH_FIELDS, in that order).
-- Grain: one row per customer record observed as of the cutoff (in core.record_observations).
-- Key: record_source, record_id. Parameters: none.
-- In record order: the matcher's random pairs (u) depend on the order, so runs are reproducible.
-- The birth date is the normalized one: placeholder dates (1900-01-01, 1970-01-01, after as_of ...)
-- are null there and never count as evidence.
with customer_records as (
    select * from core.customer_records
),

observations as (
    select * from core.record_observations
),

final as (
    select
        source as record_source,
        source_id as record_id,
        full_name,
        given_name,
        family_name,
        gender,
        birth_date_norm as birth_date,
        email_norm,
        phone_norm,
        national_id,
        address,
        city,
        province,
        postcode,
        country
    from customer_records
    where (source, source_id) in (select record_source, record_id from observations)
)

select * from final
order by record_source, record_id

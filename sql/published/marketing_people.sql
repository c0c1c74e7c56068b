-- People a marketing destination may receive: consent given, no email, phone or customer id on
-- audit.suppression (compared as SHA-256 hashes), and in no audience's holdout group that day (a
-- contact from any destination would spoil the audience's treated-against-holdout comparison).
-- Grain: one row per customer_id. Key: customer_id. Parameters: $as_of.
-- Filled in: people (the people.sql model).
with people as (
{{people}}
),

suppression as (
    select * from audit.suppression
),

holdouts as (
    select distinct customer_id
    from published.audience_members
    where as_of = $as_of
        and holdout
),

final as (
    select * from people
    where coalesce(people.marketing_consent, false)
        and not exists (
            select 1 from suppression as s
            where (s.kind = 'customer_id' and s.value_sha256 = sha256(people.customer_id))
                or (s.kind = 'email' and s.value_sha256 = sha256(people.email))
                or (s.kind = 'phone' and s.value_sha256 = sha256(people.phone))
        )
        and people.customer_id not in (select customer_id from holdouts)
)

select * from final

-- People a marketing destination may receive: consent given, and no email, phone or customer id on
-- audit.suppression (compared as SHA-256 hashes).
-- Grain: one row per customer_id. Key: customer_id. Parameters: $as_of.
-- Filled in: people (the people.sql model).
with people as (
{{people}}
),

suppression as (
    select * from audit.suppression
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
)

select * from final

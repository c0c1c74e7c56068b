-- Customers whose records disagree on what one person has only one of: a sex (M and F both given) or a national id
-- (two that differ in more than two characters: more than a typo). Such a customer is likely two people merged: a
-- household sharing an address and a phone, a recycled phone number. Kept in core.identity_conflicts, brought up to
-- date with the golden record (tasks/dedupe/golden.py); dedupe warns of them and the report lists them
-- (core/identity_conflicts_summary.sql). Nothing is split.
-- Grain: one row per (customer_id, field). Parameters: none.
-- {{identity}}: the identity map rows of the customers to check (core.identity_map, or a run's _golden_identity).
with records as (
    select
        identity.customer_id,
        case
            when upper(trim(records.gender)) in ('M', 'MALE', '男') then 'M'
            when upper(trim(records.gender)) in ('F', 'FEMALE', '女') then 'F'
        end as sex,
        nullif(upper(regexp_replace(records.national_id, '[^0-9A-Za-z]', '', 'g')), '') as national_id
    from core.customer_records as records
    join {{identity}} as identity
        on identity.source = records.source
        and identity.source_id = records.source_id
    where records.gender is not null or records.national_id is not null
),

customers as (
    select
        customer_id,
        count(distinct sex) > 1 as sexes,
        coalesce(levenshtein(min(national_id), max(national_id)) > 2, false) as national_ids
    from records
    group by customer_id
    having count(*) > 1
),

final as (
    select customer_id, 'gender' as field from customers where sexes
    union all
    select customer_id, 'national_id' as field from customers where national_ids
)

select * from final

-- The ids the sources know each customer by, for files and destinations that go back to the CRM or the shop.
-- Grain: one row per customer_id of {{customers}} with a source-given id. Key: customer_id. Parameters: none.
-- Filled in: {{customers}} (a relation with a customer_id column: the customers wanted; only their records
-- are read).
-- source_ids: 'source:id' of each of the customer's records whose id a source gave (a customers source's
-- source_id, a fact's customer_ref), sorted and joined with ';'. Records made from a fact's email, phone or
-- device id or its row (core/facts.sql: 'email:', 'phone:', 'device:', 'row:') carry no such id and are left
-- out: their ids are personal data or mean nothing outside the warehouse.
with identity as (
    select * from core.identity_map
    where customer_id in (select customer_id from {{customers}})
),

final as (
    select
        customer_id,
        string_agg(source || ':' || source_id, ';' order by source, source_id) as source_ids
    from identity
    where not regexp_matches(source_id, '^(email|phone|device|row):')
    group by customer_id
)

select * from final

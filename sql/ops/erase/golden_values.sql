-- Erase: the person's email, phone, device id, name and address in their golden records that no other customer's
-- golden record has: how their rows are found in an export file without a customer_id column.
-- Grain: one row per (field, value). Key: field, value. Parameters: $customer_ids (list of varchar: the person's ids).
with customers as (
    select * from core.customers
),

fields as (
    select customers.customer_id, 'email' as field, customers.email as value from customers
    union all
    select customers.customer_id, 'phone', customers.phone from customers
    union all
    select customers.customer_id, 'device_id', customers.device_id from customers
    union all
    select customers.customer_id, 'full_name', customers.full_name from customers
    union all
    select customers.customer_id, 'address', customers.address from customers
),

marked as (
    select
        fields.field,
        fields.value,
        fields.customer_id in (select unnest($customer_ids)) as person
    from fields
    where fields.value is not null
),

final as (
    select
        marked.field,
        marked.value
    from marked
    group by marked.field, marked.value
    having bool_or(marked.person) and bool_and(marked.person)
)

select * from final

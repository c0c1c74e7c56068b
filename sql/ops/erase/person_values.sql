-- Erase: the values that only the person's staged rows carry (rows in _erase_lineage), by the lookup that
-- normalizes them: what to delete from core.*_lookup, and the contact keys that identify the person.
-- Grain: one row per (kind, raw). Key: kind, raw. Parameters: none. Reads _erase_lineage (ops/erase_lineage).
-- kind: name, place, address and birth_date (staging.customers, as sql/core/lookups/*_values.sql and
-- tasks/dedupe/lookups.py read them), email, phone and device (every staging table, as
-- sql/core/contact_values.sql reads them), and email_lower (emails compared case-insensitively).
-- A value another person's staged row carries too is not the person's: it is left out.
with lineage as (
    select * from _erase_lineage
),

customers as (
    select * from staging.customers
),

transactions as (
    select * from staging.transactions
),

events as (
    select * from staging.events
),

feedback as (
    select * from staging.feedback
),

contacts as (
    select customers.source, customers._file, customers._row, customers.email, customers.phone, customers.device_id
    from customers
    union all
    select
        transactions.source,
        transactions._file,
        transactions._row,
        transactions.email,
        transactions.phone,
        transactions.device_id
    from transactions
    union all
    select events.source, events._file, events._row, events.email, events.phone, events.device_id
    from events
    union all
    select feedback.source, feedback._file, feedback._row, feedback.email, feedback.phone, feedback.device_id
    from feedback
),

carried as (
    select
        customers.source,
        customers._file,
        customers._row,
        'name' as kind,
        coalesce(customers.full_name, nullif(concat_ws(' ', customers.family_name, customers.given_name), '')) as raw
    from customers
    union all
    select customers.source, customers._file, customers._row, 'place', customers.city
    from customers
    union all
    select customers.source, customers._file, customers._row, 'place', customers.province
    from customers
    union all
    select customers.source, customers._file, customers._row, 'address', customers.address
    from customers
    union all
    select customers.source, customers._file, customers._row, 'birth_date', cast(customers.birth_date as varchar)
    from customers
    union all
    select contacts.source, contacts._file, contacts._row, 'email', contacts.email
    from contacts
    union all
    select contacts.source, contacts._file, contacts._row, 'email_lower', lower(contacts.email)
    from contacts
    union all
    select contacts.source, contacts._file, contacts._row, 'phone', contacts.phone
    from contacts
    union all
    select contacts.source, contacts._file, contacts._row, 'device', contacts.device_id
    from contacts
),

marked as (
    select
        carried.kind,
        carried.raw,
        lineage.source is not null as person
    from carried
    left join lineage
        on lineage.source = carried.source
        and lineage.file = carried._file
        and lineage.row = carried._row
    where carried.raw is not null
),

final as (
    select
        marked.kind,
        marked.raw
    from marked
    group by marked.kind, marked.raw
    having bool_or(marked.person) and bool_and(marked.person)
)

select * from final

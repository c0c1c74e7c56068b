-- Staged customer records of people erased earlier, read again by a reload: their lineage, for _erase_lineage.
-- Grain: one row per staged customers row (source, file, row) whose record key, email or a written
-- contact key hashes to an erased identifier (audit.erased_identifiers, see tasks/erase). Parameters: none.
with customers as (
    select * from staging.customers
),

erased_records as (
    select value_sha256 from audit.erased_identifiers where kind = 'record'
),

erased_emails as (
    select value_sha256 from audit.erased_identifiers where kind = 'email'
),

erased_written as (
    select value_sha256 from audit.erased_identifiers where kind = 'written'
),

final as (
    select
        source,
        _file as file,
        _row as row
    from customers
    where sha256(source || '|' || source_id) in (select value_sha256 from erased_records)
        or sha256(lower(trim(email))) in (select value_sha256 from erased_emails)
        or sha256(trim(email)) in (select value_sha256 from erased_written)
        or sha256(trim(phone)) in (select value_sha256 from erased_written)
        or sha256(trim(device_id)) in (select value_sha256 from erased_written)
)

select * from final

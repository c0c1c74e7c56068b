-- Staged rows of people erased earlier, read again by a reload: their lineage, for _erase_lineage.
-- Grain: one row per staged row (source, file, row) whose record key, email or a written contact key
-- hashes to an erased identifier (audit.erased_identifiers, see tasks/erase).
-- Parameters: $source (the fact source whose rows are read; null: every source of a customers table) and
-- $record_source (the customers source a fact's customer_ref points into; null: the row's own source).
-- Filled in: kind (the staging table), record_id (source_id of a customer record, customer_ref of a fact).
with staged as (
    select * from staging.{{kind}}
    where $source::varchar is null or source = $source
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
    from staged
    -- a null record_id gives a null key, which is never erased
    where sha256(coalesce($record_source::varchar, source) || '|' || {{record_id}})
            in (select value_sha256 from erased_records)
        or sha256(lower(trim(email))) in (select value_sha256 from erased_emails)
        or sha256(trim(email)) in (select value_sha256 from erased_written)
        or sha256(trim(phone)) in (select value_sha256 from erased_written)
        or sha256(trim(device_id)) in (select value_sha256 from erased_written)
)

select * from final

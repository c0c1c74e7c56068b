-- Erase: the raw rows in _erase_raw_keys (ops/erase/raw_row_keys) of people erased now or earlier: their lineage.
-- Grain: one row per raw row (source, file, row) whose record key, email or a written contact key hashes to an
-- erased identifier (audit.erased_identifiers, kinds record, email and written; see tasks/erase).
-- Parameters: none. The same rule as staging/erased_rows, for rows that are not (or not only) staged.
with raw_keys as (
    select * from _erase_raw_keys
),

erased as (
    select * from audit.erased_identifiers
),

erased_records as (
    select erased.value_sha256 from erased where erased.kind = 'record'
),

erased_emails as (
    select erased.value_sha256 from erased where erased.kind = 'email'
),

erased_written as (
    select erased.value_sha256 from erased where erased.kind = 'written'
),

final as (
    select distinct
        raw_keys.source,
        raw_keys.file,
        raw_keys.row
    from raw_keys
    -- a null record_id gives a null key, which is never erased
    where sha256(raw_keys.record_source || '|' || raw_keys.record_id)
            in (select erased_records.value_sha256 from erased_records)
        or sha256(lower(trim(raw_keys.email))) in (select erased_emails.value_sha256 from erased_emails)
        or sha256(trim(raw_keys.email)) in (select erased_written.value_sha256 from erased_written)
        or sha256(trim(raw_keys.phone)) in (select erased_written.value_sha256 from erased_written)
        or sha256(trim(raw_keys.device_id)) in (select erased_written.value_sha256 from erased_written)
)

select * from final

-- Erase: the raw rows in _erase_raw_keys (ops/erase/raw_row_keys) of people erased now or earlier: their lineage.
-- Grain: one row per raw row (source, file, row) whose record key, email or a written contact key hashes to an
-- erased identifier (audit.erased_identifiers, kinds record, email, written and phone_digits; see tasks/erase).
-- Parameters: none. The same rule as staging/erased_rows, for rows that are not (or not only) staged.
with raw_keys as (
    select
        keys_read.*,
        regexp_replace(translate(keys_read.phone, '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g')
            as _phone_digits
    from _erase_raw_keys as keys_read
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

-- a phone's number as digits, another spelling of it included (tasks/erase/tables.py phone_digits): with its
-- country code (+86 151…, 0086 151… without the 00) or without (151…, 010… without the trunk 0)
erased_phones as (
    select erased.value_sha256 from erased where erased.kind = 'phone_digits'
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
        or sha256(raw_keys._phone_digits) in (select erased_phones.value_sha256 from erased_phones)
        or sha256(regexp_replace(raw_keys._phone_digits, '^00?', ''))
            in (select erased_phones.value_sha256 from erased_phones)
        or sha256(trim(raw_keys.device_id)) in (select erased_written.value_sha256 from erased_written)
)

select * from final

-- Staged rows of people erased earlier, read again by a reload: their lineage, for _erase_lineage.
-- Grain: one row per staged row (source, file, row) whose record key, email or a written contact key
-- hashes to an erased identifier (audit.erased_identifiers, see tasks/erase).
-- Parameters: $source (the fact source whose rows are read; null: every source of a customers table) and
-- $record_source (the customers source a fact's customer_ref points into; null: the row's own source).
-- Filled in: kind (the staging table), record_id (source_id of a customer record, customer_ref of a fact).
-- The same rule as ops/erase/erased_raw_rows, for staged rows. Column names are qualified: inside a
-- subquery an unqualified name may bind to the inner table.
with staged as (
    select
        rows_staged.*,
        regexp_replace(translate(rows_staged.phone, '０１２３４５６７８９', '0123456789'), '[^0-9]', '', 'g')
            as _phone_digits
    from staging.{{kind}} as rows_staged
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
    select
        staged.source,
        staged._file as file,
        staged._row as row
    from staged
    -- a null record_id gives a null key, which is never erased
    where ($source::varchar is null or staged.source = $source)
        and (
            sha256(coalesce($record_source::varchar, staged.source) || '|' || staged.{{record_id}})
                in (select erased_records.value_sha256 from erased_records)
            or sha256(lower(trim(staged.email))) in (select erased_emails.value_sha256 from erased_emails)
            or sha256(trim(staged.email)) in (select erased_written.value_sha256 from erased_written)
            or sha256(trim(staged.phone)) in (select erased_written.value_sha256 from erased_written)
            or sha256(staged._phone_digits) in (select erased_phones.value_sha256 from erased_phones)
            or sha256(regexp_replace(staged._phone_digits, '^00?', ''))
                in (select erased_phones.value_sha256 from erased_phones)
            or sha256(trim(staged.device_id)) in (select erased_written.value_sha256 from erased_written)
        )
)

select * from final

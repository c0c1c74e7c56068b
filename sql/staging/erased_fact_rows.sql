-- Staged fact rows of one source (transactions, events, feedback) of people erased earlier: their lineage.
-- Grain: one row per staged row (source, file, row) whose customer reference, email or a written contact
-- key hashes to an erased identifier (audit.erased_identifiers, see tasks/erase).
-- Parameters: $source, $record_source (the customers source its customer_ref points into, else itself).
-- Template: kind names the staging table.
with facts as (
    select * from staging.{{kind}}
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
    from facts
    where source = $source
        and (
            (
                customer_ref is not null
                and sha256($record_source || '|' || customer_ref) in (select value_sha256 from erased_records)
            )
            or sha256(lower(trim(email))) in (select value_sha256 from erased_emails)
            or sha256(trim(email)) in (select value_sha256 from erased_written)
            or sha256(trim(phone)) in (select value_sha256 from erased_written)
            or sha256(trim(device_id)) in (select value_sha256 from erased_written)
        )
)

select * from final

-- Erase: the identifier fields of one source's raw rows, as staging maps them (also on a row staging
-- quarantined): the record the row points at, and its email, phone and device id as written.
-- Grain: one row per raw row (source, file, row) of raw.<source>. Key: source, file, row.
-- Parameters: $source, $record_source (the customers source the row's record id belongs to: the source
-- itself for customers, its customer_source for facts), $quarantined_only (true: only the raw rows
-- audit.quarantine holds, and those the source's `where` leaves out: {{left_out}}, `false` without one).
-- Filled in by tasks/extract/erased.py from the source's mappings: source (the raw table); mapped: the
-- mapping of each identifier field as m_<field>, evaluated per row under try; typed: record_id (source_id
-- or customer_ref), email, phone and device_id as staging types a text field (trimmed, null when empty).
with raw_rows as (
    select * from raw."{{source}}"
),

quarantined as (
    select * from audit.quarantine
),

read_rows as (
    select raw_rows.*
    from raw_rows
    where not $quarantined_only
        or {{left_out}}
        or exists (
            select 1
            from quarantined
            where quarantined.source = raw_rows._source
                and quarantined.file = raw_rows._file
                and quarantined.row_number = raw_rows._row
        )
),

mapped as (
    select
        read_rows._file,
        read_rows._row,
        {{mapped}}
    from read_rows
),

typed as (
    select
        mapped._file,
        mapped._row,
        {{typed}}
    from mapped
),

final as (
    select
        $source::varchar as source,
        typed._file as file,
        typed._row as row,
        $record_source::varchar as record_source,
        typed.record_id,
        typed.email,
        typed.phone,
        typed.device_id
    from typed
)

select * from final

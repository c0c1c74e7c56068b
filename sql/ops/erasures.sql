-- Table: audit.erasures, what each erasure removed (tables, row counts, files), never the personal data.
-- Grain: one row per erasure request (a repeated request adds a row). Written by erase_customer.
create table if not exists audit.erasures (
    customer_id varchar,
    erased_at timestamptz,
    tables json,
    rows_removed bigint,
    files json
)

-- Scratch: the identifier fields of raw rows, as staging maps them (ops/erase/raw_row_keys), to find the rows
-- of erased people among rows that never reached staging (quarantined, older versions) and their copies.
-- Grain: one row per raw row (source, file, row). Temp table of this connection; the caller fills it.
-- record_source and record_id: the customer record the row belongs to (its own source_id, or its customer_ref
-- in the customers source it points into); email, phone, device_id as written (trimmed).
create or replace temp table _erase_raw_keys (
    source varchar,
    file varchar,
    row bigint,
    record_source varchar,
    record_id varchar,
    email varchar,
    phone varchar,
    device_id varchar
)

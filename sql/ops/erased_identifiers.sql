-- Table: audit.erased_identifiers, SHA-256 hashes of erased people's identifiers, so a reload drops them again.
-- Grain: one row per (kind, value_sha256); kind is record, email, phone or written. Written by erase_customer.
create table if not exists audit.erased_identifiers (
    kind varchar,
    value_sha256 varchar,
    erased_at timestamptz
)

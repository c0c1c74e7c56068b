-- Table: audit.suppression, people marketing destinations never receive, as SHA-256 hashes only.
-- Grain: one row per (kind, value_sha256, origin); kind is email, phone or customer_id. Written by load_suppression.
create table if not exists audit.suppression (
    kind varchar,
    value_sha256 varchar,
    origin varchar,
    added_at timestamptz
)

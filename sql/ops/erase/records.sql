-- Scratch: the customer records of the person being erased (from core.identity_map).
-- Grain: one row per (source, source_id). Temp table of this connection; the caller fills it.
create or replace temp table _erase_records (
    source varchar,
    source_id varchar
)

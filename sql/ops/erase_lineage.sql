-- Scratch: the raw and staged rows to delete, by lineage, for an erasure or for erased people read again.
-- Grain: one row per (source, file, row) of raw / staging. Temp table of this connection; the caller fills it.
create or replace temp table _erase_lineage (
    source varchar,
    file varchar,
    row bigint
)

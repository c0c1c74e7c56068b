-- Table: staging.<kind>, the typed rows of every source of one kind, with their lineage.
-- Grain: one row per staged raw row (source, _file, _row). Key: source, _file, _row.
-- Template filled by tasks/extract/staging.py: kind names the table; columns are the kind's canonical
-- fields with their types (tasks.shared.contracts.CANONICAL_FIELDS), in that order.
create table if not exists staging.{{kind}} (
    source varchar,
    _file varchar,
    _row bigint,
    {{columns}}
)

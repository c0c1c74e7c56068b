-- Table: staging.<kind>, the typed rows of every source of one kind, with their lineage; also
-- staging.unattributed_<kind> (transactions, events, feedback), the typed rows that say nobody's they are.
-- Grain: one row per staged raw row (source, _file, _row). Key: source, _file, _row.
-- Template filled by tasks/extract/staging.py: table names the table (the kind, or unattributed_<kind>);
-- columns are the kind's canonical fields with their types (tasks.shared.contracts.CANONICAL_FIELDS), in
-- that order. The amount's scale is widened when a source allows more decimals (staging.widen_amounts).
create table if not exists staging.{{table}} (
    source varchar,
    _file varchar,
    _row bigint,
    {{columns}}
)

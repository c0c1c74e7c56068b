-- Table: core.match_state_records, the matcher's records as the last run prepared them.
-- Grain: one row per customer record the last run compared. Key: record_source, record_id.
-- Parameters: none. Input: _match_state_records written by tasks/dedupe/incremental.py (all records after a
-- full run, a registered frame; the new and changed ones, a temp table inserted after an incremental run):
-- h1, h2: two hashes of the fields the matcher reads (a record whose hashes changed is prepared again);
-- unreadable__<comparison>: its value of that comparison could not be read; then the prepared fields
-- (tasks/dedupe/preparation.py: prepare_records).
with state_records as (
    select * from _match_state_records
),

final as (
    select * from state_records
)

select * from final

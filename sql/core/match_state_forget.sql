-- Forget the state rows of the records gone or changed since the matcher state was written.
-- Grain: deletes the rows of {{table}} (core.match_state_records or core.match_state_keys) of each record
-- in _match_state_gone(record_source, record_id), written by tasks/dedupe/incremental.py. Parameters: none.
delete from {{table}} as state
using _match_state_gone as gone
where state.record_source = gone.record_source
    and state.record_id = gone.record_id

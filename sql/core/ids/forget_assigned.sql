-- Forget the previous state of the records this forward run assigned (ids/assigned_state.sql writes the new one).
-- Grain: deletes one row of core.identity_state per record in _assigned. Parameters: none.
-- Input: temp table _assigned(record_source, record_id, customer_id), written by tasks/dedupe/ids.py.
delete from core.identity_state as state
using _assigned
where state.source = _assigned.record_source
    and state.source_id = _assigned.record_id

-- Forget the identity map rows of the touched records (tasks/dedupe/touched.py) before their new rows are
-- inserted (core/identity_map.sql over their components). Grain: deletes one row of core.identity_map per
-- touched record it holds. Parameters: none.
delete from core.identity_map as identity
using _touched as touched
where identity.source = touched.record_source
    and identity.source_id = touched.record_id

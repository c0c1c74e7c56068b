-- Forget the kept oversized clusters of the touched records (tasks/dedupe/touched.py: whole clusters), before
-- this run's clusters of them are inserted (core/identity_oversized.sql).
-- Grain: deletes one row of core.identity_oversized per touched record it holds. Parameters: none.
delete from core.identity_oversized as oversized
using _touched as touched
where oversized.source = touched.record_source
    and oversized.source_id = touched.record_id

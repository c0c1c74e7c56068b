-- Publish: delete from published.segment_size_days the stored sizes of the stale days (before they are
-- counted again). Grain: one row per (as_of, scheme, segment). Parameters: none. Reads _size_stale_days.
delete from published.segment_size_days
where as_of in (select as_of from _size_stale_days)

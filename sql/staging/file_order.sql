-- Scratch: each file's place in arrival order, read by staging/ranked_duplicates and staging/ranked_versions.
-- Grain: one row per file of the source (_file). Key: _file.
-- Parameters: $files, $arrived (when each was first loaded; null: in this run), $mtimes (mtime_ns), lists
-- of one length (tasks/extract/duplicates.py mark_duplicates).
select
    unnest($files::varchar[]) as _file,
    unnest($arrived::timestamptz[]) as arrived,
    unnest($mtimes::bigint[]) as mtime_ns

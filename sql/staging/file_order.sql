-- Scratch: when each file of a source was first loaded (staging/ranked_duplicates, staging/ranked_versions).
-- Grain: one row per file of the source (_file). Key: _file.
-- Parameters: $files, $arrived (when each was first loaded; null: in this run), lists of one length
-- (tasks/extract/duplicates.py mark_duplicates).
select
    unnest($files::varchar[]) as _file,
    unnest($arrived::timestamptz[]) as arrived

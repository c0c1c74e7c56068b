-- The rows of one batch (a file, or a database batch) with lineage, as created in or appended to raw.<source>.
-- Grain: one row per source row read (_file, _row). Key: _source, _file, _row.
-- Parameters: $source, $loaded_at (timestamptz), $run_id, and those of the reader's select.
-- Template filled by tasks/extract/raw.py: batch is the reader's select (tasks/extract/readers.py), every
-- column as read plus _file and _row. The source's own columns follow the lineage, as read; conversions
-- is empty or ` replace (...)`: the batch's columns converted to the wider type raw.<source> holds them
-- in, when this file's type of a column differs from earlier files' (tasks.extract.raw.widened_type).
with batch as (
    {{batch}}
),

final as (
    select
        $source as _source,
        _file,
        _row,
        $loaded_at::timestamptz as _loaded_at,
        $run_id as _run_id,
        * exclude (_file, _row){{conversions}}
    from batch
)

select * from final

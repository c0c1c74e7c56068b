-- Scratch: the rows of one PostgreSQL read (the Arrow stream registered as _pg_batch), with lineage.
-- Grain: one row per source row read. Key: _row. Parameters: $batch (the batch's name, postgres:<source>@<run>).
with pg_batch as (
    select * from _pg_batch
),

final as (
    select
        *,
        $batch as _file,
        row_number() over () as _row
    from pg_batch
)

select * from final

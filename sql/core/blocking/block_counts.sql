-- How many records of a full matcher run each block holds, as core/match_state_blocks reads them (written to
-- Parquet outside the stage's transaction, read as the temp view _match_state_block_sizes): counted in DuckDB,
-- under its memory limit.
-- Grain: one row per block. Key: rule, kh1, kh2. Parameters: none.
-- Input: temp table _match_state_block_keys (rule, kh1, kh2: one row per key of a record, written batch by batch
-- by tasks/dedupe/state_blocks.py, count_blocks).
with block_keys as (
    select * from _match_state_block_keys
),

final as (
    select
        rule,
        kh1,
        kh2,
        count(*)::bigint as size
    from block_keys
    group by rule, kh1, kh2
)

select * from final

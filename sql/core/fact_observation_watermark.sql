-- The new watermark of core.fact_observations (core.fact_observation_files): the files as staged now.
-- Grain: one row per (source, file) with staged facts. Key: source, file. Parameters: none; reads
-- _fact_observation_files_now (core/fact_observation_files_now.sql).
with final as (
    select * from _fact_observation_files_now
)

select * from final

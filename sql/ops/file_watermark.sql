-- The new watermark of a table kept from run to run: {{current}}, the files as staged now (as the run read
-- them before it changed the table), stored as {{held}}, which sql/ops/file_changes.sql compares the next
-- run's files with. The watermarks: core.fact_observation_files (core/fact_observation_files_now.sql),
-- core.customer_record_files (core/customer_record_files_now.sql), features.activity_files and
-- features.order_files (features/staged_files_now.sql, over staged events and transactions).
-- Grain: one row per (source, file) with staged rows. Key: source, file. Parameters: none.
with final as (
    select * from {{current}}
)

select * from final

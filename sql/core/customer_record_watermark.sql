-- The new watermark of core.customer_records and core.record_observations (core.customer_record_files): the
-- files of customer records as staged now, as this run read them before it changed the tables.
-- Grain: one row per (source, file) with staged customer rows. Key: source, file. Parameters: none; reads
-- _customer_record_files_now (core/customer_record_files_now.sql).
with final as (
    select * from _customer_record_files_now
)

select * from final

-- Table: features.order_files, the watermark of features.orders: the files whose staged transactions it
-- holds, as they were staged when it was last brought up to date (features/staged_files_now.sql).
-- Grain: one row per (source, file) with staged transactions. Key: source, file. Parameters: none;
-- reads _order_files_now.
with final as (
    select * from _order_files_now
)

select * from final

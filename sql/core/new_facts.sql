-- The staged facts of one kind whose files are new since core.fact_observations was last brought up to date.
-- Grain: one row per staged fact of a new file. Key: source, _file, _row. Parameters: none.
-- Identifiers: {{facts}}: a staged fact table (staging.transactions, staging.events or staging.feedback);
-- {{changes}}: the files that differ from the watermark (ops/file_changes.sql), of which the 'new' ones (on a
-- first run or a rebuild, every file) are read.
with facts as (
    select * from {{facts}}
),

new_files as (
    select source, file from {{changes}}
    where change = 'new'
),

final as (
    select facts.*
    from facts
    semi join new_files
        on new_files.source = facts.source
        and new_files.file = facts._file
)

select * from final

-- Table: audit.file_moves, loaded files found under another name (a re-pointed symlink, a renamed folder or
-- file: tasks.extract.load_state.follow_renames). Their rows keep the name they were loaded under (file);
-- found_as is the name the file has now, which later runs map back without reading the file again.
-- Grain: one row per (source, found_as). run_id: the run that found the file there.
create table if not exists audit.file_moves (
    source varchar,
    file varchar,
    found_as varchar,
    found_at timestamptz,
    run_id varchar
)

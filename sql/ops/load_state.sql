-- Table: audit.load_state, what extract has loaded of each source, so the next run reads only what is new.
-- Grain: one row per (source, file) loaded: a file with its hash, size and mtime, or a database batch
-- (postgres:<source>@<run>) with its watermark. config_fingerprint: the source config the rows were staged with.
create table if not exists audit.load_state (
    source varchar,
    file varchar,
    file_hash varchar,
    size bigint,
    mtime_ns bigint,
    watermark varchar,
    config_fingerprint varchar,
    loaded_at timestamptz,
    run_id varchar
)

-- Table: audit.load_state, what extract has loaded of each source, so the next run reads only what is new.
-- Grain: one row per (source, file) loaded: a file with its hash, size and mtime, or a database batch
-- (postgres:<source>@<run>) with its watermark. config_fingerprint: the source config the rows were staged with.
-- loaded_at: when the file was first loaded, kept when it is rewritten, renamed or read again by a full
-- refresh (its arrival: the first row of an id is the one that arrived first); run_id: the run that last read it.
-- ctime_ns: the file's inode change time when last checked (a rewrite moves it even when size and mtime are kept;
-- null for loads made before it was kept: those files are hashed once more).
-- reader_fingerprint: how the file was read (format, encoding, reader options: raw's rows depend on them; null
-- for loads made before it was kept, added by the `alter` below to the warehouses created before it).
create table if not exists audit.load_state (
    source varchar,
    file varchar,
    file_hash varchar,
    size bigint,
    mtime_ns bigint,
    watermark varchar,
    config_fingerprint varchar,
    loaded_at timestamptz,
    run_id varchar,
    reader_fingerprint varchar,
    ctime_ns bigint
);

alter table audit.load_state add column if not exists reader_fingerprint varchar;
alter table audit.load_state add column if not exists ctime_ns bigint;

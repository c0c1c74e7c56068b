-- published.runs of a warehouse created before a column was added: add it (earlier publishes get its default).
-- Grain: none (a statement). Parameters: none. Run after ops/runs, by publish_tables.
alter table published.runs add column if not exists partial boolean default false

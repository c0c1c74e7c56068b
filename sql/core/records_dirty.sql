-- The records a run brings up to date in place (tasks/dedupe/records.py): every record whose row of
-- core.customer_records or whose observations in core.record_observations can differ from the last run's.
-- Read before the tables change, after the fact observations were folded (core.fact_observations).
-- Grain: one row per record (source, source_id). Key: source, source_id (staging requires a customer's
-- source_id; a null one, staged by other means, stands for every record of its source without one).
-- Parameters: $low, $high: the last run's cutoff and this run's, the earlier first (equal: none moved).
-- Inputs: _customer_record_file_changes (sql/ops/file_changes.sql: new files only, a changed one builds
-- the tables whole) and _folded_records (the records of the fact observation groups this run folded in).
with new_files as (
    select source, file
    from _customer_record_file_changes
    where change = 'new'
),

customers as (
    select source, source_id, _file, valid_from, valid_to from staging.customers
),

held as (
    select * from core.customer_records
),

facts as (
    select * from core.fact_observations
),

folded as (
    select * from _folded_records
),

births as (
    select * from core.birth_date_lookup
),

-- a version of a new file: a new record, or a new version of one (which moved its last version's valid_to)
staged_new as (
    select customers.source, customers.source_id
    from customers
    semi join new_files
        on new_files.source = customers.source
        and new_files.file = customers._file
),

-- a version beginning or ending between the two cutoffs: another version is valid at this run's cutoff
versions_moved as (
    select source, source_id
    from customers
    where (valid_from >= $low and valid_from < $high)
        or (valid_to >= $low and valid_to < $high)
),

-- a record or fact first seen between the two cutoffs: its observation enters (or leaves) the table
records_seen as (
    select source, source_id
    from held
    where seen_ts >= $low and seen_ts < $high
),

facts_seen as (
    select record_source as source, record_id as source_id
    from facts
    where first_seen >= $low and first_seen < $high
),

-- a birth date read otherwise now (the last plausible one is the as_of day)
births_moved as (
    select held.source, held.source_id
    from held
    join births on births.raw = held.birth_date
    where births.norm is distinct from held.birth_date_norm
),

final as (
    select * from staged_new
    union
    select * from versions_moved
    union
    select * from records_seen
    union
    select * from facts_seen
    union
    select record_source, record_id from folded
    union
    select * from births_moved
)

select * from final

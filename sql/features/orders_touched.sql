-- The orders a run recomputes: those with a transaction before the cutoff that the kept features.orders
-- could not see or counted for another customer.
-- Grain: one row per order (source, order_key). Key: source, order_key.
-- Parameters: $cutoff (exclusive end of the as_of day), $previous_cutoff (the cutoff features.orders was
-- netted as of: at most $cutoff); reads _order_file_changes (ops/file_changes.sql) and
-- _order_identity_moved (features/identity_moved.sql against features.order_identity).
-- An order is touched by a row in [$previous_cutoff, $cutoff) (the days since, in any file), a row of a
-- new file before $cutoff (late rows included), or a row of a record whose customer changed.
-- order_key is features/orders.sql's: the order id, else the transaction id, else the row's position.
with staged as (
    select * from staging.transactions
    where ts < $cutoff
),

transactions as (
    select * from core.transactions
    where ts < $cutoff
),

new_files as (
    select source, file
    from _order_file_changes
    where change = 'new'
),

changed_records as (
    select * from _order_identity_moved
),

since as (
    select
        source,
        coalesce(order_id, txn_id, _file || ':' || _row) as order_key
    from staged
    where ts >= $previous_cutoff
),

new_rows as (
    select
        staged.source,
        coalesce(staged.order_id, staged.txn_id, staged._file || ':' || staged._row) as order_key
    from staged
    semi join new_files
        on new_files.source = staged.source
        and new_files.file = staged._file
),

regrouped as (
    select
        transactions.source,
        coalesce(transactions.order_id, transactions.txn_id, transactions._file || ':' || transactions._row)
            as order_key
    from transactions
    semi join changed_records
        on changed_records.source = transactions.record_source
        and changed_records.source_id = transactions.record_id
),

final as (
    select * from since
    union
    select * from new_rows
    union
    select * from regrouped
)

select * from final

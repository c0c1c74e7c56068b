-- Every transaction before the cutoff of the orders a run recomputes, with its record: what
-- features/orders.sql nets those orders from (over _order_rows).
-- Grain: one row per staged transaction (source, _file, _row) of an order in _orders_touched.
-- Parameters: $cutoff (exclusive end of the as_of day); reads _orders_touched (features/orders_touched.sql).
with transactions as (
    select * from core.transactions
    where ts < $cutoff
),

touched as (
    select * from _orders_touched
),

final as (
    select transactions.*
    from transactions
    semi join touched
        on touched.source = transactions.source
        and touched.order_key = coalesce(
            transactions.order_id,
            transactions.txn_id,
            transactions._file || ':' || transactions._row
        )
)

select * from final

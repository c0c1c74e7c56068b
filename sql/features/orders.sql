-- Orders as of the cutoff, with refunds and cancellations netted in.
-- Grain: one row per order (source, order_key). Key: source, order_key.
-- Parameters: $cutoff (exclusive end of the as_of day, a timestamptz).
-- A purchase is a transaction with a positive amount. Refunded and cancelled rows count as
-- negative amounts; failed and pending payments do not count. A row without order_id is an
-- order of its own (keyed by txn_id, or by its file position when it has no txn_id either).
with transactions as (
    select * from core.transactions
),

identity as (
    select * from core.identity_map
),

signed as (
    select
        transactions.source,
        coalesce(
            transactions.order_id,
            transactions.txn_id,
            transactions._file || ':' || transactions._row
        ) as order_key,
        identity.customer_id,
        transactions.ts,
        case
            when transactions.status in ('refunded', 'cancelled') then -abs(transactions.amount)
            else transactions.amount
        end as signed_amount
    from transactions
    join identity
        on identity.source = transactions.record_source
        and identity.source_id = transactions.record_id
    where transactions.ts < $cutoff
        and coalesce(transactions.status, 'paid') not in ('failed', 'pending')
),

final as (
    select
        source,
        order_key,
        -- the order belongs to whoever made its first purchase row
        coalesce(
            arg_min(customer_id, ts) filter (where signed_amount > 0),
            arg_min(customer_id, ts)
        ) as customer_id,
        coalesce(min(ts) filter (where signed_amount > 0), min(ts)) as order_ts,
        cast(coalesce(min(ts) filter (where signed_amount > 0), min(ts)) as date) as order_date,
        sum(signed_amount) as net_amount,
        count(*) as transactions
    from signed
    group by source, order_key
)

select * from final

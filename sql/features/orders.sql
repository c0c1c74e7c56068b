-- Orders as of the cutoff, with refunds and cancellations netted in, in the base currency.
-- Grain: one row per order (source, order_key). Key: source, order_key.
-- Parameters: $cutoff (exclusive end of the as_of day, a timestamptz), $base_currency (ISO code),
-- $rate_currencies and $rate_values (two lists: units of base currency per unit of each other one).
-- Template filled by tasks/features/orders.py: scale is s, the decimals of the staged amounts; amount_type
-- is decimal(38, s), the type of net_amount; transactions names the rows read, core.transactions (a
-- rebuild) or _order_rows (every row of the orders a day touches: features/order_rows.sql).
-- A purchase is a transaction with a positive amount. Refunded and cancelled rows count as
-- negative amounts; failed and pending payments do not count. A row without order_id is an
-- order of its own (keyed by txn_id, or by its file position when it has no txn_id either).
-- Currencies: a row without one is in the base currency; an amount in another currency with a rate is
-- converted (rounded to s decimals). One in a currency without a rate is never added to other
-- currencies: its order's net_amount is null (left out of monetary) and unconverted counts its rows.
-- currency: the order's own currency (null when its rows have several); purchase: its net amount is
-- positive, in that currency (so an order without a rate still counts as a purchase).
-- One currency: its rows' least and greatest currency are equal (every row has one; no distinct count).
with transactions as (
    select * from {{transactions}}
),

identity as (
    select * from core.identity_map
),

rates as (
    select
        $base_currency::varchar as currency,
        1::decimal(38,10) as rate
    union all
    select
        unnest($rate_currencies::varchar[]) as currency,
        unnest($rate_values::decimal(38,10)[]) as rate
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
        coalesce(transactions.currency, $base_currency) as currency,
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

converted as (
    select
        signed.*,
        cast(round(signed.signed_amount * rates.rate, {{scale}}) as {{amount_type}}) as base_amount
    from signed
    left join rates using (currency)
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
        case when count(*) filter (where base_amount is null) = 0 then sum(base_amount) end as net_amount,
        count(*) as transactions,
        case when min(currency) = max(currency) then min(currency) end as currency,
        case
            when min(currency) = max(currency) then sum(signed_amount) > 0
            else coalesce(sum(base_amount) > 0 and count(*) filter (where base_amount is null) = 0, false)
        end as purchase,
        count(*) filter (where base_amount is null) as unconverted
    from converted
    group by source, order_key
)

select * from final

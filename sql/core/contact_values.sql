-- The distinct raw values of one contact field staged in any source that its lookup has not normalized yet:
-- what core.{email,phone,device}_lookup add (tasks/dedupe/lookups.py).
-- Grain: one row per distinct non-null raw value. Key: raw. Parameters: none.
-- {{column}}: the staged field (email, phone or device_id), the same in staging.customers and the facts;
-- {{lookup}}: its lookup table.
with known as (
    select raw from {{lookup}}
),

customers as (
    select {{column}} as raw from staging.customers
),

transactions as (
    select {{column}} as raw from staging.transactions
),

events as (
    select {{column}} as raw from staging.events
),

feedback as (
    select {{column}} as raw from staging.feedback
),

staged as (
    select raw from customers
    union
    select raw from transactions
    union
    select raw from events
    union
    select raw from feedback
),

final as (
    select raw
    from staged
    where raw is not null
        and raw not in (select raw from known)
)

select * from final

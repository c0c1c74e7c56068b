-- The truth of the customers a time-split evaluation scores: all of them, or a fixed sample of $users.
-- Grain: one row per (customer_id, item) first had after the fit day. Key: customer_id, item.
-- Parameters: $users (integer: at most this many customers).
-- Identifiers: {{truth}}, a table of act/recommendation_truth.
-- The metrics are means over customers, so a sample of 100k estimates them well and keeps the evaluation's
-- cost flat as the customer base grows. The sample is the customers first by hash(customer_id) (ties by id):
-- the same customers on every run, whatever the thread count.
with truth as (
    select * from {{truth}}
),

customers as (
    select distinct customer_id
    from truth
),

sampled as (
    select customer_id
    from customers
    order by hash(customer_id), customer_id
    limit $users
),

final as (
    select truth.*
    from truth
    semi join sampled on sampled.customer_id = truth.customer_id
)

select * from final

-- No customer to recompute on its own: a full build of the golden record recomputes every customer.
-- Grain: one row per customer_id whose golden record is recomputed (none). Parameters: none.
select cast(null as varchar) as customer_id
where false

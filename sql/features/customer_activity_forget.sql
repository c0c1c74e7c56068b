-- Statement: delete the features.customer_activity rows of the customers a run recomputes
-- (_activity_customers_dirty, features/activity_customers_dirty.sql), before their new rows are inserted.
-- Grain: deletes the row of each such customer (a customer merged away keeps none). Parameters: none.
delete from features.customer_activity
where customer_id in (select customer_id from _activity_customers_dirty)

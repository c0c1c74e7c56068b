-- Forget the golden records of the customers recomputed this run (core/golden_dirty.sql), before their
-- new rows are inserted (tasks/dedupe/golden.py). Grain: deletes one row of core.customers per customer in
-- _golden_dirty. Parameters: none.
delete from core.customers as customers
using _golden_dirty as dirty
where customers.customer_id = dirty.customer_id

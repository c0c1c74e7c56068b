-- Statement: delete the features.orders rows of the orders a run recomputes, before they are inserted again.
-- Grain: deletes every features.orders row whose (source, order_key) is in _orders_touched. Parameters: none.
delete from features.orders
using _orders_touched as touched
where features.orders.source = touched.source
    and features.orders.order_key = touched.order_key

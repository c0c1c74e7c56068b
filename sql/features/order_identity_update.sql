-- Statement: features.order_identity brought up to today's identity map: the records whose customer
-- changed (_order_identity_changes, features/order_identity_changes.sql) are deleted, and those still
-- in the map inserted with today's customer. Grain: one row per customer record. Parameters: none.
delete from features.order_identity
using _order_identity_changes as changed
where features.order_identity.source = changed.source
    and features.order_identity.source_id = changed.source_id;

insert into features.order_identity by name
select
    identity.source,
    identity.source_id,
    identity.customer_id
from core.identity_map as identity
semi join _order_identity_changes as changed
    on changed.source = identity.source
    and changed.source_id = identity.source_id

-- Statement: a kept identity map ({{held}}, features/identity_snapshot.sql) brought up to today's: the records
-- whose customer changed ({{moved}}, features/identity_moved.sql) are deleted, and those still in the map
-- inserted with today's customer. Grain: one row per customer record. Parameters: none.
delete from {{held}} as held
using {{moved}} as moved
where held.source = moved.source
    and held.source_id = moved.source_id;

insert into {{held}} by name
select
    identity.source,
    identity.source_id,
    identity.customer_id
from core.identity_map as identity
semi join {{moved}} as moved
    on moved.source = identity.source
    and moved.source_id = identity.source_id

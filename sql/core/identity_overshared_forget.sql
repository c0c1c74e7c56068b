-- Forget the kept counts of the key values recounted this run (graph/key_recount.sql), before the new ones
-- above the limit are inserted (core/identity_overshared_recounted.sql).
-- Grain: deletes one row of core.identity_overshared per recounted value. Parameters: none.
delete from core.identity_overshared as overshared
using _key_recount as recount
where overshared.key = recount.key
    and overshared.value = recount.value

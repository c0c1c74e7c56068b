-- Revive ids issued again by this run (a merge undone): active again, redirecting nowhere.
-- Grain: updates one row of core.customer_ids per revived id. Parameters: $as_of.
-- Input: temp table _new_ids(customer_id, anchor, first_seen), written by tasks/dedupe/ids.py.
update core.customer_ids
set
    status = 'active',
    merged_into = null,
    updated_as_of = $as_of
where customer_id in (select customer_id from _new_ids)

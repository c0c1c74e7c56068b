-- Erase: delete from one table the rows whose key column holds one of the person's keys; returns the count.
-- Grain: one deleted row per matching row of the table. Parameters: $keys (list of varchar: customer ids).
-- Filled in: target (the table) and key (its column holding a customer id, e.g. customer_id, merged_into).
delete from {{target}} as target
where target.{{key}} in (select unnest($keys))

-- Mark the ids this forward run merged away: status 'merged', redirecting to the surviving id.
-- Grain: updates one row of core.customer_ids per merged id. Parameters: $as_of.
-- Input: temp table _merges(merged_customer_id, surviving_customer_id, records, match_rules).
update core.customer_ids
set
    status = 'merged',
    merged_into = merges.surviving_customer_id,
    updated_as_of = $as_of
from _merges as merges
where core.customer_ids.customer_id = merges.merged_customer_id

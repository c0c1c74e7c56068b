-- Statement: each version of a customers source's records is valid until the next one begins (valid_to).
-- Grain: updates one row of staging.customers per version whose valid_to changes. Parameters: $source.
-- Template filled by tasks/extract/duplicates.py: ids is the condition on source_id of the records
-- refreshed (those of _version_times, or true: every record of the source).
-- Version order as in staging/ranked_versions: valid_from (null first: known from the start), file, row;
-- two versions from the same instant leave the earlier one an empty interval (valid_to = valid_from).
update staging.customers as staged
set valid_to = versions.next_from
from (
    select
        _file,
        _row,
        lead(valid_from) over (
            partition by source_id order by valid_from nulls first, _file, _row
        ) as next_from
    from staging.customers
    where source = $source and source_id is not null and {{ids}}
) as versions
where staged.source = $source
    and staged._file = versions._file
    and staged._row = versions._row
    and staged.valid_to is distinct from versions.next_from

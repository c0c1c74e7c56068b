-- Erase: delete a normalization lookup's rows for the person's emails, phones and identifiers as written.
-- Grain: one deleted row per lookup row whose raw or norm value is one of $values.
-- Parameters: $values (list of varchar). Filled in: lookup (core.email_lookup, core.phone_lookup or core.device_lookup).
delete from {{lookup}}
where raw in (select unnest($values))
    or norm in (select unnest($values))

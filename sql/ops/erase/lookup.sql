-- Erase: delete a lookup's rows (raw -> norm) for values only the person's staged rows carried (ops/erase/person_values).
-- Grain: one deleted row per lookup row whose raw value is one of $values; returns the count.
-- Parameters: $values (list of varchar). Filled in: lookup (core.<kind>_lookup; a birth date is compared as text).
delete from {{lookup}} as lookup
where cast(lookup.raw as varchar) in (select unnest($values))

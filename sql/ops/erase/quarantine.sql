-- Erase: delete quarantined rows carrying one of the person's identifiers (as written) in any field.
-- Grain: one deleted row per matching row of audit.quarantine. Parameters: $written (list of varchar).
delete from audit.quarantine
where list_has_any(json_extract_string(record, '$.*'), $written)

-- Erase: delete raw rows (dropped as exact duplicates, or quarantined) carrying one of the person's identifiers.
-- Grain: one deleted row per raw row with one of $written in a text column. Parameters: $written (list of varchar).
-- Filled in: raw (the raw table), matches (`"<column>" in (select unnest($written))` for each text
-- column of that table, joined with `or`; generated from the table's own columns).
delete from {{raw}}
where {{matches}}

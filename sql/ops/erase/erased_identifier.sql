-- Erase: record one hashed identifier of an erased person, unless it is recorded already.
-- Grain: one row (kind, value_sha256) added at most. Parameters: $kind, $value_sha256, $erased_at.
insert into audit.erased_identifiers
select
    $kind,
    $value_sha256,
    $erased_at
where not exists (
    select 1
    from audit.erased_identifiers as recorded
    where recorded.kind = $kind
        and recorded.value_sha256 = $value_sha256
)

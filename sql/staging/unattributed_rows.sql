-- The checked rows of one source that pass every check but say nobody's they are (no customer_ref, email,
-- phone or device_id): inserted into staging.unattributed_<kind>, apart from the rows dedupe attributes.
-- Grain: one row per unattributed raw row (source, _file, _row). Key: source, _file, _row. Parameters: $source.
-- Unattributed: the row's only failed check is 'no customer reference' (it comes last, see
-- tasks/extract/staging.py UNATTRIBUTED). A copy of a kept row (_duplicate_of) is dropped, as any row's.
with checked as (
    select * from _checked
),

final as (
    select
        $source as source,
        * exclude (_reason, _id, _duplicate_of)
    from checked
    where starts_with(_reason, 'no customer reference') and _duplicate_of is null
)

select * from final

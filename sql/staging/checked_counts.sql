-- What staging did with each file's checked rows: staged, quarantined, dropped as duplicates.
-- Grain: one row per file (_file) of _checked. Key: _file. Parameters: none.
-- staged counts every row staged, the unattributed ones (staging.unattributed_<kind>: the row's only failed
-- check is 'no customer reference') included; unattributed counts those. Neither is a bad row.
with checked as (
    select
        *,
        coalesce(starts_with(_reason, 'no customer reference'), false) as unattributed
    from _checked
),

final as (
    select
        _file,
        count(*) filter (where (_reason is null or unattributed) and _duplicate_of is null) as staged,
        count(*) filter (where _reason is not null and not unattributed) as quarantined,
        count(*) filter (where (_reason is null or unattributed) and _duplicate_of is not null) as dropped,
        count(*) filter (where unattributed and _duplicate_of is null) as unattributed
    from checked
    group by _file
)

select * from final

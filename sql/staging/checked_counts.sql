-- What staging did with each file's checked rows: staged, quarantined, dropped as duplicates.
-- Grain: one row per file (_file) of _checked. Key: _file. Parameters: none.
with checked as (
    select * from _checked
),

final as (
    select
        _file,
        count(*) filter (where _reason is null and _duplicate_of is null) as staged,
        count(*) filter (where _reason is not null) as quarantined,
        count(*) filter (where _reason is null and _duplicate_of is not null) as dropped
    from checked
    group by _file
)

select * from final

-- Erase: the contact identifiers as the sources wrote them, on the person's staged rows.
-- Grain: one row per staged row in _erase_lineage. Parameters: none.
-- Filled in: staged (staging.<kind>).
with staged as (
    select * from {{staged}}
),

lineage as (
    select * from _erase_lineage
),

final as (
    select
        staged.email,
        staged.phone,
        staged.device_id
    from staged
    join lineage
        on lineage.source = staged.source
        and lineage.file = staged._file
        and lineage.row = staged._row
)

select * from final

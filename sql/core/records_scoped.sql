-- The rows of a table that belong to the records a run brings up to date in place (_dirty_records,
-- core/records_dirty.sql): tasks/dedupe/records.py reads the staged versions, the last rows and the fact
-- observations of those records only.
-- Grain: the table's. Parameters: none. {{table}}: the table; {{source}}, {{id}}: its record columns (a
-- null id in _dirty_records takes every row of the source without one).
with scoped as (
    select * from {{table}}
),

dirty as (
    select * from _dirty_records
),

final as (
    select scoped.*
    from scoped
    semi join dirty
        on dirty.source = scoped.{{source}}
        and dirty.source_id is not distinct from scoped.{{id}}
)

select * from final

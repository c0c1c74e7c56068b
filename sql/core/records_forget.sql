-- Statement: delete from a table the rows of the records a run brings up to date in place
-- (_dirty_records, core/records_dirty.sql), before their recomputed rows are inserted.
-- Grain: deletes the table's rows of those records. Parameters: none. {{table}}: the table; {{source}},
-- {{id}}: its record columns (a null id in _dirty_records deletes every row of the source without one).
delete from {{table}} as held
using _dirty_records as dirty
where dirty.source = held.{{source}}
    and dirty.source_id is not distinct from held.{{id}}

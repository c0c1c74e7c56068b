-- The observations of the touched records only (_touched, tasks/dedupe/touched.py): what the record graph
-- is built from when the other components are kept from the last run. A temp view.
-- Grain: as the _observations view (graph/observations.sql). Parameters: none.
create or replace temp view _touched_observations as
with observations as (
    select * from _observations
),

touched as (
    select * from _touched
),

final as (
    select observations.*
    from observations
    semi join touched using (record_source, record_id)
)

select * from final

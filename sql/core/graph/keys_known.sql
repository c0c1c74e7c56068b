-- Match key values seen on more than one record, and on how many, when only the touched records are linked
-- (tasks/dedupe/touched.py): a changed value counted over every record (_key_recount), a value above the
-- limit in the last run and unchanged at its kept count (core.identity_overshared); any other value is
-- held by touched records only (they hold whole components), so counting the edges counts every holder, but for
-- a value two people hold (its holders may lie in several components): graph/shared.sql leaves it out whatever
-- its count.
-- Grain: one row per (key, value) of two records or more. Key: key, value. Parameters: none.
-- Input: _link_edges (graph/edges.sql), _key_recount (graph/key_recount.sql), core.identity_overshared.
with edges as (
    select * from _link_edges
),

recount as (
    select * from _key_recount
),

overshared as (
    select * from core.identity_overshared
),

linked as (
    select
        key,
        value,
        count(*) as records
    from edges
    group by key, value
),

counted as (
    select
        linked.key,
        linked.value,
        coalesce(recount.records, overshared.records, linked.records) as records
    from linked
    left join recount using (key, value)
    left join overshared using (key, value)
),

final as (
    select * from counted
    where records > 1
)

select * from final

-- What a changes destination receives for one day: who entered or exited which segment, with their fields.
-- Grain: one row per (scheme, segment, customer_id) that changed. Parameters: $as_of, $scheme (null: every scheme).
-- Filled in: people (people.sql, or marketing_people.sql for marketing), fields (people.<field> for each
-- field the destination asks for, checked against the published columns).
with changes as (
    select * from published.segment_changes
    where as_of = $as_of
        and (cast($scheme as varchar) is null or scheme = $scheme)
),

people as (
{{people}}
),

final as (
    select
        changes.as_of,
        changes.scheme,
        changes.segment,
        changes.change,
        {{fields}}
    from changes
    join people using (customer_id)
    order by changes.scheme, changes.segment, changes.change, changes.customer_id
)

select * from final

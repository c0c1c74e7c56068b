-- What dedupe says of core.identity_conflicts (core/identity_conflicts.sql): per field, the customers whose records
-- disagree on it, and the first of them with its records (with their sex; a national id is not shown: the summary
-- goes into the report).
-- Grain: one row per field. Parameters: none.
with conflicts as (
    select field, count(*) as customers, min(customer_id) as example
    from core.identity_conflicts
    group by field
),

shown as (
    select
        conflicts.field,
        string_agg(
            identity.source || ':' || identity.source_id
            || case when conflicts.field = 'gender' then ' ' || coalesce(records.gender, '-') else '' end,
            ', ' order by identity.source, identity.source_id
        ) as records
    from conflicts
    join core.identity_map as identity on identity.customer_id = conflicts.example
    join core.customer_records as records
        on records.source = identity.source
        and records.source_id = identity.source_id
    group by conflicts.field
),

final as (
    select conflicts.field, conflicts.customers, conflicts.example || ' (' || shown.records || ')' as example
    from conflicts
    left join shown using (field)
)

select * from final
order by field

-- The tag spans to drop and to add so that the spans give as_of exactly the day's tag sets, every other
-- published day keeping its own. Grain: one row per span dropped or added. Key: edit, customer_id,
-- valid_from. Parameters: $as_of, $next (the first published day after as_of, or null).
-- Reads _tag_changes (sql/published/tag_set_changes.sql).
-- A changed customer's covering span is dropped and what it held before as_of (valid_from up to as_of)
-- and from next on is added back. The day's set gets a span from as_of to next, joined with the same
-- set's span that ends at as_of and the one that starts at next, which are dropped (spans of one set never
-- touch). A span's valid_from and valid_to are published days (valid_to null: open), and the spans of one
-- customer cover disjoint days, so customer_id and valid_from name a span.
with changes as (
    select * from _tag_changes
),

spans as (
    select * from published.customer_tag_spans
),

removed as (
    select * from changes where old_from is not null
),

added as (
    select * from changes where tags_hash is not null
),

ending as (
    select * from spans where valid_to = $as_of
),

starting as (
    select * from spans where valid_from = $next
),

merged as (
    select
        added.customer_id,
        added.tags_hash,
        coalesce(ending.valid_from, $as_of::date) as valid_from,
        case when starting.customer_id is null then $next::date else starting.valid_to end as valid_to,
        ending.valid_from as ending_from,
        starting.valid_from as starting_from
    from added
    left join ending
        on added.customer_id = ending.customer_id
        and added.tags_hash = ending.tags_hash
    left join starting
        on added.customer_id = starting.customer_id
        and added.tags_hash = starting.tags_hash
),

edits as (
    select 'drop' as edit, customer_id, old_hash as tags_hash, old_from as valid_from,
        old_to as valid_to
    from removed
    union all
    select 'add', customer_id, old_hash, old_from, $as_of::date
    from removed
    where old_from < $as_of
    union all
    select 'add', customer_id, old_hash, $next::date, old_to
    from removed
    where $next::date is not null and (old_to is null or old_to > $next::date)
    union all
    select 'drop', customer_id, tags_hash, ending_from, $as_of::date
    from merged
    where ending_from is not null
    union all
    select 'drop', customer_id, tags_hash, starting_from, valid_to
    from merged
    where starting_from is not null
    union all
    select 'add', customer_id, tags_hash, valid_from, valid_to
    from merged
),

final as (
    select
        edit,
        customer_id,
        tags_hash,
        valid_from,
        valid_to
    from edits
)

select * from final

-- Each customer's tag set on each day of some tag rows: what tag spans are compared by (tasks/publish/tags.py).
-- Grain: one row per as_of and customer_id. Key: as_of, customer_id. Parameters: none.
-- Filled in: tags, rows with as_of, customer_id, tag, tag_zh and value (the day's tags, or an earlier
-- version's per-day table). tags_hash: the sum, without overflow, of each row's 64-bit hash, so the order of
-- the rows does not matter and a row a customer has twice counts twice, as a decimal(38, 0) (a hugeint would
-- do, but a DuckLake warehouse stores hugeints as doubles, which would round it); tag_rows: how many rows.
-- Two different sets of one customer with the same hash would be taken for the same set: for the ~1e5
-- customers whose tags change in a day at 1M customers, about 1e5 / 2^64 (5e-15) a day.
with tags as (
    {{tags}}
),

final as (
    select
        as_of,
        customer_id,
        sum(hash(tag, tag_zh, value)::hugeint)::decimal(38, 0) as tags_hash,
        count(*) as tag_rows
    from tags
    group by as_of, customer_id
)

select * from final

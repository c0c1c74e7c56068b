-- Scratch: the customers each rule segment matches, before exclusive groups are applied.
-- Grain: one row per customer_id and rule segment it matches. Temp table of this connection; the segment
-- stage fills it with one insert per rule (sql/segments/rule_matches.sql) and drops it after the ranking.
create or replace temp table _rule_matches (
    customer_id varchar,
    segment varchar,
    label_en varchar,
    label_zh varchar,
    priority integer,
    exclusive_group varchar
)

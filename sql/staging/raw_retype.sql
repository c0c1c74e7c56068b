-- Statements: raw.<source> with one column's type changed, on a DuckLake, by rewriting the table through a
-- temporary copy (tasks/extract/raw.py, change_column_type). A DuckLake changes a type in place only by a
-- widening it applies without rewriting files; DuckLake 1.5.5 loses the files of a table replaced by a
-- select from itself, and a table renamed in the transaction that created it: hence the copy.
-- Grain: one row per source row read (_file, _row), as raw.<source>; the column order is kept.
-- Parameters: none. Template: source names the table; column is the quoted column, converted its values
-- in the new type (cast, or to_json).
create or replace temp table raw_retyped as
select * replace ({{converted}} as {{column}}) from raw."{{source}}";
drop table raw."{{source}}";
create table raw."{{source}}" as from raw_retyped;
drop table raw_retyped;

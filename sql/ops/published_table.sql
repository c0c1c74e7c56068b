-- Publish: create a published table with its model's columns and no rows, if it does not exist yet.
-- Grain: the model's (PUBLISHED_TABLES in tasks/publish/tables.py names each table's model).
-- Parameters: the model's. Filled in: table (the published table), model (the model's select).
create table if not exists {{table}} as
select * from (
{{model}}
)
limit 0

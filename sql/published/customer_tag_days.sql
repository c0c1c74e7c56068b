-- Publish: the days published.customer_tags has (published.customer_tag_days), if it does not exist yet.
-- Grain: one row per published as_of. Key: as_of. Parameters: none. A day is added by its first publish
-- (tasks/publish/tags.py) and never removed: a day published again replaces its tags, not the day.
create table if not exists published.customer_tag_days (
    as_of date not null
)

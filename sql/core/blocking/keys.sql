-- Scratch: the blocking keys of the matcher's records, filled one rule at a time from blocking/rule_keys.
-- Grain: one row per (rule, node) whose record has every column of the rule. Key: rule, node.
-- Temp table of a cursor of the warehouse connection (tasks/dedupe/blocking.py), dropped with it.
create or replace temp table _blocking_keys (
    rule varchar,
    node bigint,
    grp bigint,  -- the record's source (for link_only, dedupe_only)
    key varchar,
    block_size bigint
)

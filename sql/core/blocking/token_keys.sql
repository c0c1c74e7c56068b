-- The blocking keys of one token rule: each token of a record's free text is a key of its own.
-- Grain: one row per (node, token). Key: node, key.
-- Parameters: $rule (its name). Input: _tokens (node, grp, key), registered by tasks/dedupe/blocking.py.
-- block_size counts the records sharing the token, so that common words propose no pairs.
with tokens as (
    select distinct node, grp, key from _tokens
),

final as (
    select
        $rule as rule,
        node,
        grp,
        key,
        count(*) over (partition by key) as block_size
    from tokens
)

select * from final

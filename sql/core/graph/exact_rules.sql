-- The exact rule that links each record: its shared key of highest priority (email, phone, national id,
-- device id; tasks.dedupe.graph.MATCH_KEYS), with the score of an exact link.
-- Grain: one row per record linked through a shared key. Key: node. Parameters: none.
-- Input: _link_links (graph/links.sql).
with links as (
    select * from _link_links
),

first_keys as (
    select
        node,
        arg_min(
            key,
            case key
                when 'email_norm' then 0
                when 'phone_norm' then 1
                when 'national_id' then 2
                when 'device_id' then 3
            end
        ) as key
    from links
    group by node
),

final as (
    select
        node,
        case key
            when 'email_norm' then 'exact:email'
            when 'phone_norm' then 'exact:phone'
            when 'national_id' then 'exact:national_id'
            when 'device_id' then 'exact:device_id'
        end as exact_rule,
        1.0::double as exact_score
    from first_keys
)

select * from final

-- The waterfall of each probabilistic link between two records of one customer (the links the last
-- dedupe run clustered with): the prior, then each comparison's level and match weight, with the
-- running total; at the last step the total is the link's match weight.
-- Grain: one row per link and step. Key: source_a, id_a, source_b, id_b, position.
-- Parameters: $customer_id.
with identity_map as (
    select * from core.identity_map
),

links as (
    select * from core.match_links
),

evidence as (
    select * from core.match_evidence
),

customer_records as (
    select
        source,
        source_id
    from identity_map
    where customer_id = $customer_id
),

customer_links as (
    select links.*
    from links
    join customer_records as record_a
        on record_a.source = links.source_a
        and record_a.source_id = links.id_a
    join customer_records as record_b
        on record_b.source = links.source_b
        and record_b.source_id = links.id_b
    where links.used
),

final as (
    select
        customer_links.source_a,
        customer_links.id_a,
        customer_links.source_b,
        customer_links.id_b,
        customer_links.match_probability as link_probability,
        customer_links.match_weight as link_weight,
        customer_links.rule,
        evidence.position,
        evidence.comparison,
        evidence.level,
        evidence.label,
        evidence.term_frequency_adjusted,
        evidence.match_weight,
        sum(evidence.match_weight) over (
            partition by evidence.source_a, evidence.id_a, evidence.source_b, evidence.id_b
            order by evidence.position
            rows between unbounded preceding and current row
        ) as running_weight
    from customer_links
    join evidence
        on evidence.source_a = customer_links.source_a
        and evidence.id_a = customer_links.id_a
        and evidence.source_b = customer_links.source_b
        and evidence.id_b = customer_links.id_b
)

select * from final
order by link_probability desc, source_a, id_a, source_b, id_b, position

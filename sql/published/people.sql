-- People of one published day: each published customer's segments with their golden-record fields.
-- Grain: one row per customer_id. Key: customer_id. Parameters: $as_of.
-- Filled in: person_fields (customers.<field> for each of PERSON_FIELDS in tasks/publish/destinations.py),
-- day_segments (the day's published rows: every customer's, day_segments.sql, or only those in an audience
-- that day, audience_segments.sql, for the outreach list whose customers are all audience members).
-- source_ids (source_ids.sql, filled in as source_ids over segments): the ids the sources know them by.
-- Destinations select from it (destination_*.sql); marketing_people.sql narrows it for marketing.
with segments as (
    {{day_segments}}
),

customers as (
    select * from core.customers
),

given_ids as (
{{source_ids}}
),

final as (
    select
        segments.* exclude (run_id),
        given_ids.source_ids,
        {{person_fields}}
    from segments
    left join customers using (customer_id)
    left join given_ids using (customer_id)
)

select * from final

-- One row per staged {{kind}} row, with the customer record it belongs to (a view).
-- Grain: one row per (source, _file, _row). Parameters: none.
-- {{kind}} is one of transactions, events, feedback and {{row_id}} its id field (checked in code).
-- The record is the row's customer_ref in its customers source; without a customer_ref it is
-- the row's own best identifier (normalized email, then phone, then device id). A row whose
-- identifiers are all invalid or placeholders (13800000000, test@test.com) is a record of its
-- own, keyed by the row's id (or its file, relative to the config folder, and row number):
-- grouping rows by such a value would merge unrelated people.
with facts as (
    select * from staging.{{kind}}
),

emails as (
    select * from core.email_lookup
),

phones as (
    select * from core.phone_lookup
),

devices as (
    select * from core.device_lookup
),

links as (
    select * from core.source_links
),

final as (
    select
        facts.*,
        emails.norm as email_norm,
        phones.norm as phone_norm,
        devices.norm as device_norm,
        case
            when facts.customer_ref is not null then coalesce(links.customer_source, facts.source)
            else facts.source
        end as record_source,
        case
            when facts.customer_ref is not null then facts.customer_ref
            else coalesce(
                'email:' || emails.norm,
                'phone:' || phones.norm,
                'device:' || devices.norm,
                'row:' || coalesce(facts.{{row_id}}, facts._file || ':' || facts._row)
            )
        end as record_id
    from facts
    left join emails on emails.raw = facts.email
    left join phones on phones.raw = facts.phone
    left join devices on devices.raw = facts.device_id
    left join links on links.source = facts.source
)

select * from final

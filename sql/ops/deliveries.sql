-- Table: published.deliveries, the webhook batches a destination accepted, so a rerun sends only the others.
-- Grain: one row per delivered batch. Key: destination, as_of, idempotency_key. Written by deliver_webhook.
create table if not exists published.deliveries (
    destination varchar,
    url varchar,
    as_of date,
    batch integer,
    idempotency_key varchar,
    rows integer,
    attempts integer,
    status_code integer,
    delivered_at timestamptz
)

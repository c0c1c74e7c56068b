-- The act stage's tables of the day, empty, for a day the stage built nothing of (disabled, or no
-- lookalikes or recommendations configured): publish and the report read them all.
-- Grain: see each model (act/audience_members, act/campaign_outcomes, tasks/act/lookalike.py,
-- tasks/act/recommend.py). Parameters: none.
create table if not exists act.audiences (
    audience varchar,
    label_en varchar,
    label_zh varchar,
    scheme varchar,
    segment varchar,
    priority integer,
    position integer,
    holdout_share double
);
create table if not exists act.audience_channels (
    audience varchar,
    channel varchar,
    preference integer
);
create table if not exists act.segment_memberships (
    scheme varchar,
    segment varchar,
    customer_id varchar
);
create table if not exists act.lookalike_scores (
    lookalike varchar,
    customer_id varchar,
    seed boolean,
    score double,
    percentile double,
    in_audience boolean
);
create table if not exists act.recommendations (
    customer_id varchar,
    rank integer,
    item varchar,
    score double,
    source varchar
);
create table if not exists act.audience_members (
    audience varchar,
    customer_id varchar,
    holdout boolean,
    entered_on date
);
create table if not exists act.campaign_outcomes (
    audience varchar,
    window_days integer,
    metric varchar,
    entries_from date,
    entries_to date,
    treated bigint,
    holdout bigint,
    treated_value double,
    holdout_value double,
    difference double,
    standard_error double,
    ci_low double,
    ci_high double
)

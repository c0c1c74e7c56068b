-- The act stage's fitted models, kept between days and refitted on a schedule (tasks/act/store.py).
-- Grain: act.models: one row per model (model: 'lookalike:<name>' or 'recommendations'). Key: model.
--   fit_day: the as_of it was fitted and evaluated as of; settings_hash: what it was fitted with (config,
--   constants, SQL); versions: the libraries that fitted it; payload: pickled bytes (the lookalike's
--   classifiers, each model's evaluation rows).
-- Grain: act.lookalike_folds: one row per (lookalike, customer_id) of the fit day.
--   Key: lookalike, customer_id.
--   fold: which of the cross-fitted classifiers scores the customer (one that never saw them).
-- Grain: act.item_similarity_model: one row per item pair (act/item_similarity) of the recommender's
--   fit day. Key: item, similar_item.
-- Parameters: none.
create table if not exists act.models (
    model varchar,
    fit_day date,
    settings_hash varchar,
    versions varchar,
    payload blob
);
create table if not exists act.lookalike_folds (
    lookalike varchar,
    customer_id varchar,
    fold tinyint
);
create table if not exists act.item_similarity_model (
    item varchar,
    similar_item varchar,
    cooccurrence bigint,
    similarity double
);

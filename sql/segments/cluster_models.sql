-- Table: segments.cluster_models, the clustering model of each as_of: k, its quality, the explaining tree, the scaler.
-- Grain: one row per as_of (a rerun of the day replaces it). Key: as_of. Parameters: none.
-- k_scores, scaler and features are JSON; features lists the model inputs in order. On a day assigned with
-- a stored model (segments.cluster_fits) the fit's figures are kept, previous_as_of is its fit day, and
-- fidelity and customers are the day's.
create table if not exists segments.cluster_models (
    as_of date,
    run_id varchar,
    previous_as_of date,
    k integer,
    k_method varchar,
    k_scores varchar,
    silhouette double,
    inertia double,
    fidelity double,
    tree_rules varchar,
    scaler varchar,
    features varchar,
    customers bigint,
    fitted_rows bigint,
    created_at timestamptz
)

-- Tables: the predict stage's history, kept per as_of (a rerun of a day replaces that day's rows).
-- Grain: predict.models: one row per as_of and model: what it was trained on, its parameters, its feature
--   importances and (for the classifier) the fitted model itself (pickle), and whether it was used.
-- predict.backtests: one row per as_of, backtest cutoff, model and metric (long format).
-- predict.calibration: one row per as_of, backtest cutoff, churn model and decile of predicted risk.
create table if not exists predict.models (
    as_of date,
    run_id varchar,
    model varchar,
    role varchar,
    trained_on date,
    training_rows bigint,
    used boolean,
    parameters json,
    feature_importances json,
    fitted blob,
    created_at timestamptz
);

create table if not exists predict.backtests (
    as_of date,
    cutoff date,
    trained_on date,
    role varchar,
    model varchar,
    metric varchar,
    value double
);

create table if not exists predict.calibration (
    as_of date,
    cutoff date,
    model varchar,
    decile integer,
    customers bigint,
    mean_predicted double,
    observed_rate double
);

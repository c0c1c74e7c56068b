-- Table: predict.backtests, each as_of's backtest figures (long format).
-- Grain: one row per as_of, backtest cutoff, model and metric; a rerun of a day replaces that day's rows.
-- A day scored with stored models (predict.model_fits) repeats the backtest of their fit day.
create table if not exists predict.backtests (
    as_of date,
    cutoff date,
    trained_on date,
    role varchar,
    model varchar,
    metric varchar,
    value double
);

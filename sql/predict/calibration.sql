-- Table: predict.calibration, each as_of's calibration tables of the churn models.
-- Grain: one row per as_of, backtest cutoff, churn model and decile of predicted risk; a rerun of a day
-- replaces that day's rows. A day scored with stored models (predict.model_fits) repeats the calibration
-- of their fit day.
create table if not exists predict.calibration (
    as_of date,
    cutoff date,
    model varchar,
    decile integer,
    customers bigint,
    mean_predicted double,
    observed_rate double
);

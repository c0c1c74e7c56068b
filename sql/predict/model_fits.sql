-- Table: predict.model_fits, the predict stage's fitted models kept between runs (tasks/predict/model_store.py).
-- Grain: one row per fit day; a refit of a day replaces its row. Key: fit_day. Parameters: none.
-- fitted is the pickled tasks.predict.PredictFit (churn models, chosen model, BG/NBD and Gamma-Gamma,
-- the fit day's backtest and calibration rows); settings_hash covers the settings and code it depends
-- on, versions (JSON) the libraries it was pickled with. A day scores with the latest fit on or before it.
create table if not exists predict.model_fits (
    fit_day date,
    run_id varchar,
    settings_hash varchar,
    versions varchar,
    fitted blob,
    created_at timestamptz
)

-- Table: predict.models, the models of each as_of: what each was trained on, its parameters, its
-- feature importances and (the classifier) the fitted model itself (pickle), and whether it was used.
-- Grain: one row per as_of and model; a rerun of a day replaces that day's rows. Written by the predict stage.
-- A day scored with stored models (predict.model_fits) repeats the rows of their fit day under its as_of.
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

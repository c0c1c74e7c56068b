-- Table: segments.cluster_fits, the fitted cluster model kept between runs (tasks/predict/model_store.py).
-- Grain: one row per fit day; a refit of a day replaces its row. Key: fit_day. Parameters: none.
-- fitted is the pickled tasks.segment.clusters.ClusterModel (scaler and KMeans pipeline, the cluster id
-- of each KMeans centre, names, the explaining tree); settings_hash covers the settings and code it
-- depends on, versions (JSON) the libraries it was pickled with. A day assigns customers with the latest
-- fit on or before it.
create table if not exists segments.cluster_fits (
    fit_day date,
    run_id varchar,
    settings_hash varchar,
    versions varchar,
    fitted blob,
    created_at timestamptz
)

-- Table: segments.cluster_centroids, the clusters of each as_of: id, names, size and centroid in original units.
-- Grain: one row per as_of and cluster_id. Key: as_of, cluster_id. Parameters: none.
-- The columns after distance_to_previous are tasks.segment.clusters.FEATURES, in that order; the next
-- as_of reads them to keep the ids and names of the clusters it finds again. On a day assigned with a
-- stored model, size is the day's and distance_to_previous is 0 (the centroid is the fit day's).
create table if not exists segments.cluster_centroids (
    as_of date,
    cluster_id integer,
    name_en varchar,
    name_zh varchar,
    size bigint,
    distance_to_previous double,
    inactive_days double,
    frequency double,
    monetary double,
    payments_90d double,
    sessions_90d double,
    session_minutes_90d double
)

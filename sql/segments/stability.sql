-- Table: segments.stability, how each scheme's segments moved since the previous published as_of.
-- Grain: one row per as_of and scheme (a rerun of the day replaces them). Key: as_of, scheme. Parameters: none.
-- ari: adjusted Rand index over the customers of both days; size_changes: JSON list of each segment's
-- size on both days.
create table if not exists segments.stability (
    as_of date,
    previous_as_of date,
    scheme varchar,
    ari double,
    customers_compared bigint,
    changed bigint,
    size_changes varchar
)

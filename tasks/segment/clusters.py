"""Customer clusters: a scikit-learn pipeline and KMeans, ids kept stable across runs, and a tree that explains them.

Pure functions (fit, match, explain) are tested directly; names come from tasks.segment.naming, and
tasks.segment.cluster_tables wires the fit to the warehouse (inputs, the previous as_of's centroids,
the stored model).

Stable ids: this run's centroids are compared with the previous as_of's centroids (stored in original
units, so they survive a refitted scaler) in this run's standardized space; the Hungarian assignment
(scipy's linear_sum_assignment) pairs them at the smallest total distance, and a pair closer than
`cluster_match_distance` keeps the previous id and name. Any other cluster gets a new id: one more than
the largest id ever stored, so ids are never reused.

A fitted model is kept (tasks.segment.cluster_tables) with its pipeline, the id of each KMeans centre
and its tree: assign_clusters gives a later day's customers the stored model's clusters, ids and names.
"""

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

from tasks.segment.naming import (
    ACTIVE_DAYS,
    HIGH_SESSIONS_30D,
    PURCHASE_FEATURES,
    Members,
    first_features,
    renamed,
    still_fits,
    unique_name,
)
from tasks.shared.config import SegmentConfig
from tasks.shared.scoring import score_rows

# Model inputs, all non-negative and right-skewed (log1p first). inactive_days: days since the last
# purchase, session or event (since first seen when there is none), capped at INACTIVE_CAP; so every
# customer, with or without a purchase, can be clustered. sql/segments/cluster_inputs.sql selects them.
FEATURES = ("inactive_days", "frequency", "monetary", "payments_90d", "sessions_90d", "session_minutes_90d")
INACTIVE_CAP = 3650
N_INIT = 4
TREE_DEPTH = 3
# Up to this many rows, one thread is faster than OpenMP's worker pool (which on a busy machine
# is many times slower); larger fits use all cores.
SINGLE_THREAD_ROWS = 50_000


@dataclass(frozen=True)
class Centroid:
    """One cluster of a run: its id, names, size and centroid in original feature units."""

    cluster_id: int
    name_en: str
    name_zh: str
    size: int
    values: dict[str, float]
    distance_to_previous: float | None = None


@dataclass(frozen=True)
class PreviousClusters:
    """The centroids stored for the previous as_of and the next unused id."""

    as_of: date | None = None
    centroids: tuple[Centroid, ...] = ()
    next_id: int = 0


@dataclass
class ClusterModel:
    """What one clustering run produced."""

    k: int
    k_method: str
    k_scores: dict[int, float]
    silhouette: float | None
    inertia: float
    fidelity: float
    tree_rules: str
    scaler: dict[str, dict[str, float]]
    centroids: list[Centroid]
    labels: np.ndarray = field(repr=False)
    fitted_rows: int = 0
    previous_as_of: date | None = None
    # what a later day needs to assign its customers without a refit (tasks.segment.cluster_tables):
    # the fitted pipeline, the cluster id of each KMeans centre (by row) and the explaining tree
    pipeline: Pipeline | None = field(default=None, repr=False)
    centre_ids: list[int] = field(default_factory=list)
    tree: DecisionTreeClassifier | None = field(default=None, repr=False)


def feature_matrix(frame: pl.DataFrame) -> np.ndarray:
    """The FEATURES of frame as a float matrix: nulls are 0, negatives (net refunds) are 0."""
    return (
        frame.select(pl.col(name).cast(pl.Float64).fill_null(0).clip(lower_bound=0) for name in FEATURES)
        .to_numpy()
        .astype(np.float64)
    )


def preprocessing() -> Pipeline:
    """log1p (the features are skewed counts and amounts), then standard scaling."""
    return Pipeline(
        [
            ("log1p", FunctionTransformer(np.log1p, inverse_func=np.expm1, check_inverse=False)),
            ("scale", StandardScaler()),
        ]
    )


def cluster_pipeline(k: int, random_state: int) -> Pipeline:
    """The whole model: log1p, standard scaling, KMeans with a fixed seed and number of starts."""
    return Pipeline(
        [*preprocessing().steps, ("kmeans", KMeans(n_clusters=k, n_init=N_INIT, random_state=random_state))]
    )


def sample_rows(n: int, size: int, random_state: int) -> np.ndarray:
    """Sorted row numbers of a deterministic sample of at most size of n rows (all rows when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(random_state).choice(n, size=size, replace=False))


def choose_k(scaled: np.ndarray, k_min: int, k_max: int, random_state: int) -> tuple[int, dict[int, float]]:
    """The k in k_min..k_max with the best silhouette on scaled rows (ties: the smaller k), and all scores."""
    distinct = len(np.unique(scaled, axis=0))
    scores: dict[int, float] = {}
    for k in range(k_min, min(k_max, distinct - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=N_INIT, random_state=random_state).fit_predict(scaled)
        if len(set(labels)) > 1:
            scores[k] = round(float(silhouette_score(scaled, labels)), 6)
    if not scores:
        return min(k_min, max(distinct, 1)), scores
    best = max(scores.items(), key=lambda item: (item[1], -item[0]))
    return best[0], scores


def profile_z(centroid_scaled: np.ndarray) -> dict[str, float]:
    """A centroid's position on each feature in standard deviations from the population mean."""
    return {name: float(value) for name, value in zip(FEATURES, centroid_scaled, strict=True)}


def _column(matrix: np.ndarray, feature: str) -> np.ndarray:
    return matrix[:, FEATURES.index(feature)]


def reference_scale(matrix: np.ndarray) -> dict[str, tuple[float, float]]:
    """Mean and std of each log1p feature over the population; over the purchasers for PURCHASE_FEATURES."""
    purchasers = matrix[_column(matrix, "frequency") > 0]
    scale = {}
    for f in FEATURES:
        values = np.log1p(_column(purchasers if f in PURCHASE_FEATURES and len(purchasers) else matrix, f))
        scale[f] = (float(values.mean()), float(values.std()) or 1.0)
    return scale


def members_of(rows: np.ndarray, reference: dict[str, tuple[float, float]]) -> Members | None:
    """What a cluster's rows (original units) say about the words its name may use (tasks.segment.naming)."""
    if not len(rows):
        return None
    inactive = _column(rows, "inactive_days")
    bought = _column(rows, "frequency") > 0
    # inactive_days counts from first seen when a customer has no activity: only a purchase or a session
    # proves that inactive_days is days since the last activity, as the activity tag counts it
    surely_active = (inactive < ACTIVE_DAYS) & (bought | (_column(rows, "sessions_90d") > 0))
    return Members(
        z={
            f: (float(np.log1p(_column(rows, f)).mean()) - reference[f][0]) / reference[f][1]
            for f in FEATURES
        },
        all_active=bool(surely_active.all()),
        all_inactive=bool((inactive >= ACTIVE_DAYS).all()),
        all_purchasers=bool(bought.all()),
        no_purchasers=not bought.any(),
        below_high_sessions=bool((_column(rows, "sessions_90d") < HIGH_SESSIONS_30D).all()),
    )


def match_ids(
    current_scaled: np.ndarray,
    previous_scaled: np.ndarray,
    previous_ids: list[int],
    next_id: int,
    max_distance: float,
    new_order: list[int],
) -> tuple[list[int], list[float | None]]:
    """Cluster ids of the current centroids: the Hungarian match to previous centroids within max_distance.

    Unmatched clusters get new ids from next_id on, in new_order (row numbers of current centroids).
    Returns each current centroid's id and its distance to the matched previous centroid (None if new).
    """
    ids: list[int | None] = [None] * len(current_scaled)
    distances: list[float | None] = [None] * len(current_scaled)
    if len(previous_scaled) and len(current_scaled):
        cost = cdist(current_scaled, previous_scaled)
        for row, column in zip(*linear_sum_assignment(cost), strict=True):
            if cost[row, column] <= max_distance:
                ids[row] = previous_ids[column]
                distances[row] = round(float(cost[row, column]), 6)
    for row in new_order:
        if ids[row] is None:
            ids[row] = next_id
            next_id += 1
    return [int(i) for i in ids], distances


def tree_rules(tree: DecisionTreeClassifier, class_names: list[str]) -> str:
    """The tree's rules in export_text's layout, with splits whose branches all end in one class merged."""
    t = tree.tree_

    def leaf_classes(node: int) -> set[int]:
        if t.children_left[node] == -1:
            return {int(np.argmax(t.value[node]))}
        return leaf_classes(t.children_left[node]) | leaf_classes(t.children_right[node])

    lines: list[str] = []

    def walk(node: int, depth: int) -> None:
        indent = "|   " * depth + "|--- "
        classes = leaf_classes(node)
        if len(classes) == 1:
            lines.append(f"{indent}class: {class_names[classes.pop()]}")
            return
        name, threshold = FEATURES[t.feature[node]], t.threshold[node]
        lines.append(f"{indent}{name} <= {threshold:.1f}")
        walk(t.children_left[node], depth + 1)
        lines.append(f"{indent}{name} >  {threshold:.1f}")
        walk(t.children_right[node], depth + 1)

    walk(0, 0)
    return "\n".join(lines) + "\n"


def explain(
    matrix: np.ndarray, labels: np.ndarray, class_names: dict[int, str], random_state: int
) -> tuple[DecisionTreeClassifier, str]:
    """A shallow decision tree fitted to the cluster labels, and its rules as text in original units."""
    tree = DecisionTreeClassifier(max_depth=TREE_DEPTH, random_state=random_state).fit(matrix, labels)
    return tree, tree_rules(tree, [f"{int(c)} {class_names[int(c)]}" for c in tree.classes_])


def fit_clusters(
    matrix: np.ndarray, config: SegmentConfig, previous: PreviousClusters | None = None
) -> ClusterModel:
    """Fit, label, match ids with the previous run, name and explain the clusters of matrix (rows: customers).

    The fit sees the rows sorted by their values, so it depends on the customers' features only, not
    on the order they come in: KMeans' seeding, the fit sample and the silhouette sample pick row
    numbers, and the rows' order follows customer ids, which differ between two warehouses holding
    the same customers (a backfilled one and a fresh one). labels are returned in matrix's order.
    """
    order = np.lexsort(matrix.T[::-1])  # by the first feature, then the next, ...
    with threadpool_limits(limits=1 if len(matrix) <= SINGLE_THREAD_ROWS else None):
        model = _fit_clusters(matrix[order], config, previous or PreviousClusters())
    labels = np.empty_like(model.labels)
    labels[order] = model.labels
    return replace(model, labels=labels)


def _fit_clusters(matrix: np.ndarray, config: SegmentConfig, previous: PreviousClusters) -> ClusterModel:
    n = len(matrix)
    rs = config.random_state
    if n == 0:
        return ClusterModel(0, config.cluster_k, {}, None, 0.0, 1.0, "", {}, [], np.zeros(0, dtype=np.int64))
    fit_rows = sample_rows(n, config.cluster_fit_sample_size, rs)
    fit_matrix = matrix[fit_rows]
    pre = preprocessing().fit(fit_matrix)
    scored_rows = sample_rows(len(fit_matrix), config.cluster_sample_size, rs + 1)
    scored = pre.transform(fit_matrix[scored_rows])
    distinct = len(np.unique(fit_matrix, axis=0))
    k_scores: dict[int, float] = {}
    if config.cluster_k == "silhouette":
        with threadpool_limits(limits=1):  # the silhouette sample is small
            k, k_scores = choose_k(scored, config.cluster_k_min, config.cluster_k_max, rs)
    else:
        k = config.clusters
    k = max(1, min(k, distinct))
    pipeline = cluster_pipeline(k, rs).fit(fit_matrix)
    raw_labels = pipeline.predict(matrix)
    kmeans: KMeans = pipeline.named_steps["kmeans"]
    scaler: StandardScaler = pipeline.named_steps["scale"]
    centers = kmeans.cluster_centers_
    original = np.expm1(scaler.inverse_transform(centers))
    sample_labels = raw_labels[fit_rows][scored_rows]
    silhouette = None  # of the final model, on the silhouette sample; it needs 2 <= clusters < customers
    if 1 < len(set(sample_labels)) < len(sample_labels):
        with threadpool_limits(limits=1):
            silhouette = round(float(silhouette_score(scored, sample_labels)), 6)

    previous_values = np.array([[c.values[f] for f in FEATURES] for c in previous.centroids]).reshape(
        -1, len(FEATURES)
    )
    previous_scaled = pipeline[:-1].transform(previous_values) if len(previous_values) else previous_values
    by_value = sorted(range(k), key=lambda row: (-original[row, FEATURES.index("monetary")], row))
    ids, distances = match_ids(
        centers,
        previous_scaled,
        [c.cluster_id for c in previous.centroids],
        previous.next_id,
        config.cluster_match_distance,
        by_value,
    )
    previous_names = {c.cluster_id: (c.name_en, c.name_zh) for c in previous.centroids}
    sizes = np.bincount(raw_labels, minlength=k)
    reference = reference_scale(matrix)
    values = [
        {f: round(float(v), 6) for f, v in zip(FEATURES, original[row], strict=True)} for row in range(k)
    ]
    profiles = [
        (profile_z(centers[row]), members_of(matrix[raw_labels == row], reference)) for row in range(k)
    ]
    first_words = [first_features(z, values[row], members) for row, (z, members) in enumerate(profiles)]
    centroids, taken = [], set()
    for row in sorted(range(k), key=lambda r: ids[r]):
        z, members = profiles[row]
        # the clusters this one may have to be told from by more words
        rivals = [
            profiles[other][0]
            for other in range(k)
            if other != row and first_words[other] == first_words[row]
        ]
        inherited = previous_names.get(ids[row])
        inherited = renamed(*inherited) if inherited else None
        if inherited and not still_fits(inherited[1], members):
            inherited = None  # the cluster kept its id, but its members no longer bear out its words
        en, zh = inherited or unique_name(z, values[row], taken, ids[row], members, rivals)
        if en in taken or zh in taken:  # an inherited name a new cluster took first
            en, zh = f"{en} ({ids[row]})", f"{zh}({ids[row]})"
        taken |= {en, zh}
        centroids.append(Centroid(ids[row], en, zh, int(sizes[row]), values[row], distances[row]))
    labels = np.asarray(ids, dtype=np.int64)[raw_labels]
    names = {c.cluster_id: c.name_en for c in centroids}
    tree, rules = explain(fit_matrix, labels[fit_rows], names, rs)
    return ClusterModel(
        k=k,
        k_method=config.cluster_k,
        k_scores=k_scores,
        silhouette=silhouette,
        inertia=round(float(kmeans.inertia_), 6),
        fidelity=round(float(accuracy_score(labels, tree.predict(matrix))), 6),
        tree_rules=rules,
        scaler={
            "mean": dict(zip(FEATURES, map(float, scaler.mean_), strict=True)),
            "scale": dict(zip(FEATURES, map(float, scaler.scale_), strict=True)),
        },
        centroids=centroids,
        labels=labels,
        fitted_rows=len(fit_rows),
        previous_as_of=previous.as_of,
        pipeline=pipeline,
        centre_ids=ids,
        tree=tree,
    )


def stored_model(model: ClusterModel) -> ClusterModel:
    """The part of a fitted model kept for later days: everything but the fit day's labels."""
    return replace(model, labels=np.zeros(0, dtype=np.int64))


def assign_clusters(matrix: np.ndarray, stored: ClusterModel, fit_day: date, as_of: date) -> ClusterModel:
    """The clusters of matrix's customers under a stored model: its pipeline assigns, its ids and names stay.

    Sizes and the tree's fidelity are the day's; k, the scaler, the centroids' values, the silhouette and
    the tree's rules are the fit's. previous_as_of is the fit day, at distance 0 from every centroid
    (on the fit day itself they stay the fit's: the day the ids were matched, and the distances).
    """
    labels = stored_labels(matrix, stored)
    sizes = {c.cluster_id: int((labels == c.cluster_id).sum()) for c in stored.centroids}
    fidelity = (
        round(float(accuracy_score(labels, score_rows(stored.tree.predict, matrix))), 6)
        if stored.tree is not None and len(matrix)
        else stored.fidelity
    )
    return replace(assigned_model(stored, fit_day, as_of, sizes, fidelity), labels=labels)


def stored_labels(matrix: np.ndarray, stored: ClusterModel) -> np.ndarray:
    """The cluster id of each row of matrix under a stored model (its pipeline assigns, its ids stay)."""
    if stored.pipeline is None or not stored.centre_ids:
        raise ValueError("the stored cluster model has no fitted pipeline")
    if len(matrix) == 0:
        return np.zeros(0, dtype=np.int64)
    with threadpool_limits(limits=1 if len(matrix) <= SINGLE_THREAD_ROWS else None):
        raw_labels = stored.pipeline.predict(matrix)
    return np.asarray(stored.centre_ids, dtype=np.int64)[raw_labels]


def tree_agrees(matrix: np.ndarray, labels: np.ndarray, stored: ClusterModel) -> np.ndarray | None:
    """Per row, whether the stored model's decision tree gives the row its cluster (None without a tree):
    the tree's fidelity is the share that agree."""
    if stored.tree is None:
        return None
    if len(matrix) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(stored.tree.predict(matrix) == labels)


def assigned_model(
    stored: ClusterModel, fit_day: date, as_of: date, sizes: dict[int, int], fidelity: float
) -> ClusterModel:
    """The stored model with an as_of's cluster sizes and tree fidelity (see assign_clusters); no labels
    (a stored model keeps none)."""
    same_day = as_of == fit_day
    return replace(
        stored,
        centroids=[
            replace(
                c,
                size=sizes.get(c.cluster_id, 0),
                distance_to_previous=c.distance_to_previous if same_day else 0.0,
            )
            for c in stored.centroids
        ],
        fidelity=fidelity,
        previous_as_of=stored.previous_as_of if same_day else fit_day,
    )


def model_summary(model: ClusterModel) -> dict:
    """The clustering part of the run summary: k, quality, the tree's rules and fidelity, the clusters."""
    return {
        "k": model.k,
        "k_method": model.k_method,
        "k_scores": {str(k): v for k, v in model.k_scores.items()},
        "silhouette": model.silhouette,
        "fidelity": model.fidelity,
        "tree_rules": model.tree_rules,
        "previous_as_of": model.previous_as_of.isoformat() if model.previous_as_of else None,
        "clusters": [
            {
                "cluster_id": c.cluster_id,
                "name_en": c.name_en,
                "name_zh": c.name_zh,
                "size": c.size,
                "new": c.distance_to_previous is None and model.previous_as_of is not None,
                **{f: round(c.values[f], 1) for f in FEATURES},
            }
            for c in model.centroids
        ],
    }

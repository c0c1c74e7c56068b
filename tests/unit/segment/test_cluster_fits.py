"""The stored cluster model: a later day assigns with it (same ids, names, tree), refits on schedule."""

from datetime import date, timedelta

import numpy as np
import pytest

from tasks.predict import model_store
from tasks.segment.cluster_tables import cluster_customers
from tasks.segment.clusters import assign_clusters, fit_clusters, stored_model
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse
from tests.unit.segment.test_clusters import FOUR, SIZES, blobs, features_table

DAY = date(2026, 3, 31)


def test_assigning_the_fit_days_customers_with_the_stored_model_gives_the_fit() -> None:
    matrix = blobs(FOUR, SIZES)
    fitted = fit_clusters(matrix, SegmentConfig())
    assigned = assign_clusters(matrix, stored_model(fitted), DAY, DAY)
    assert assigned.labels.tolist() == fitted.labels.tolist()
    assert assigned.centroids == fitted.centroids
    assert (assigned.fidelity, assigned.tree_rules, assigned.previous_as_of) == (
        fitted.fidelity,
        fitted.tree_rules,
        fitted.previous_as_of,
    )


def test_a_later_day_keeps_ids_names_and_values_with_its_own_sizes_at_distance_zero() -> None:
    fitted = fit_clusters(blobs(FOUR, SIZES), SegmentConfig())
    later = blobs(FOUR, [50, 500, 300, 250], seed=3)
    assigned = assign_clusters(later, stored_model(fitted), DAY, DAY + timedelta(days=2))
    raw = fitted.pipeline.predict(later)
    assert assigned.labels.tolist() == np.asarray(fitted.centre_ids)[raw].tolist()
    assert [(c.cluster_id, c.name_en, c.name_zh, c.values) for c in assigned.centroids] == [
        (c.cluster_id, c.name_en, c.name_zh, c.values) for c in fitted.centroids
    ]
    assert sorted(c.size for c in assigned.centroids) == [50, 250, 300, 500]
    assert {c.distance_to_previous for c in assigned.centroids} == {0.0}
    assert assigned.previous_as_of == DAY
    assert assigned.fidelity == pytest.approx(
        float((fitted.tree.predict(later) == assigned.labels).mean()), abs=1e-6
    )


def days_later(days: int) -> date:
    return DAY + timedelta(days=days)


def test_cluster_customers_refits_on_schedule_and_keeps_ids_across_refits(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SegmentConfig()
    runs = {}
    for days, seed in ((0, 0), (3, 1), (7, 2), (8, 3)):
        features_table(wh, blobs(FOUR, SIZES, seed=seed))
        runs[days] = cluster_customers(wh, config, days_later(days), f"run-{days}")
    assert {d: (r.refit, r.fitted_on) for d, r in runs.items()} == {
        0: (True, DAY),
        3: (False, DAY),
        7: (True, days_later(7)),
        8: (False, days_later(7)),
    }
    assert runs[7].reason == f"fitted on {DAY}, 7 days before {days_later(7)} (refit every 7 days)"
    # the refit matched its centroids with the stored model's (as of day 3): the same ids and names
    assert [(c.cluster_id, c.name_en) for c in runs[7].model.centroids] == [
        (c.cluster_id, c.name_en) for c in runs[0].model.centroids
    ]
    assert runs[7].model.previous_as_of == days_later(3)
    assert wh.rows("select as_of, previous_as_of from segments.cluster_models order by 1") == [
        (DAY, None),
        (days_later(3), DAY),
        (days_later(7), days_later(3)),
        (days_later(8), days_later(7)),
    ]
    # the day's clusters are written for every customer with the stored model's ids
    assert wh.rows("select cluster_id, count(*) from segments.clusters group by 1 order by 1") == [
        (c.cluster_id, c.size) for c in runs[8].model.centroids
    ]

    assert cluster_customers(wh, config, days_later(9), "r", refit=True).reason == "refit requested"
    changed = cluster_customers(wh, replace_config(config, clusters=3), days_later(10), "r")
    assert changed.reason == f"the settings or the fitting code changed since the fit on {days_later(9)}"
    assert changed.model.k == 3
    monkeypatch.setattr(
        model_store, "library_versions", lambda: {"numpy": "0", "scikit-learn": "0", "scipy": "0"}
    )
    upgraded = cluster_customers(wh, replace_config(config, clusters=3), days_later(11), "r")
    assert upgraded.reason.startswith(f"library versions changed since the fit on {days_later(10)} (numpy ")
    monkeypatch.undo()
    backfill = cluster_customers(wh, config, DAY - timedelta(days=1), "r")
    assert (backfill.refit, backfill.reason) == (
        True,
        f"the stored models were fitted on {DAY}, after {DAY - timedelta(days=1)} (they have seen the future)",
    )


def test_a_day_within_the_schedule_with_other_settings_inputs_fits_again(wh: Warehouse) -> None:
    features_table(wh, blobs(FOUR, SIZES))
    cluster_customers(wh, SegmentConfig(), DAY, "run-1", inputs_settings={"currency": "CNY"})
    same = cluster_customers(wh, SegmentConfig(), days_later(1), "run-2", inputs_settings={"currency": "CNY"})
    other = cluster_customers(
        wh, SegmentConfig(), days_later(2), "run-3", inputs_settings={"currency": "USD"}
    )
    assert (same.refit, other.refit) == (False, True)
    # the refit schedule itself is not part of the fit: changing it keeps the stored model
    longer = cluster_customers(
        wh,
        SegmentConfig(cluster_refit_every_days=30),
        days_later(3),
        "r",
        inputs_settings={"currency": "USD"},
    )
    assert (longer.refit, longer.fitted_on) == (False, days_later(2))


def replace_config(config: SegmentConfig, **changes: object) -> SegmentConfig:
    """The config with some settings changed, validated again."""
    return SegmentConfig.model_validate(config.model_dump() | changes)

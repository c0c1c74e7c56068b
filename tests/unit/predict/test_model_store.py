"""When a stored fit serves a day and when the models are fitted again (tasks/predict/model_store.py)."""

import pickle
from datetime import date, timedelta

import pytest

from tasks.predict import model_store
from tasks.predict.model_store import (
    StoredFit,
    decide,
    latest_fit,
    library_versions,
    refit_reason,
    settings_hash,
    store_fit,
)
from tasks.shared.warehouse import Warehouse

FIT_DAY = date(2026, 3, 10)
VERSIONS = {"numpy": "2.0.0", "scikit-learn": "1.5.0", "scipy": "1.14.0"}
STORED = StoredFit(FIT_DAY, "h1", VERSIONS, b"")


def reason(as_of: date, stored: StoredFit | None = STORED, **changes: object) -> str | None:
    """refit_reason with the stored fit's hash and versions, every 7 days, unless changed."""
    arguments = {"later": None, "digest": "h1", "versions": VERSIONS, "every_days": 7, "refit": False}
    return refit_reason(stored, as_of=as_of, **(arguments | changes))  # type: ignore[arg-type]


def test_a_fresh_fit_of_the_same_settings_and_versions_serves_the_next_six_days() -> None:
    assert [reason(FIT_DAY + timedelta(days=k)) for k in range(7)] == [None] * 7


def test_seven_days_after_the_fit_day_it_is_fitted_again() -> None:
    assert reason(FIT_DAY + timedelta(days=7)) == (
        "fitted on 2026-03-10, 7 days before 2026-03-17 (refit every 7 days)"
    )
    assert reason(FIT_DAY + timedelta(days=3), every_days=3) == (
        "fitted on 2026-03-10, 3 days before 2026-03-13 (refit every 3 days)"
    )


def test_refit_settings_versions_and_missing_or_later_fits_fit_again() -> None:
    day = FIT_DAY + timedelta(days=1)
    assert reason(day, refit=True) == "refit requested"
    assert reason(day, digest="h2") == "the settings or the fitting code changed since the fit on 2026-03-10"
    assert reason(day, versions=VERSIONS | {"scikit-learn": "1.6.0"}) == (
        "library versions changed since the fit on 2026-03-10 (scikit-learn 1.5.0 -> 1.6.0)"
    )
    assert reason(day, stored=None) == "no stored models"
    assert reason(FIT_DAY, stored=None, later=FIT_DAY + timedelta(days=2)) == (
        "the stored models were fitted on 2026-03-12, after 2026-03-10 (they have seen the future)"
    )


def test_the_hash_covers_settings_and_code() -> None:
    sources = ("sql/predict/snapshots.sql",)
    assert settings_hash({"a": 1}, sources) == settings_hash({"a": 1}, sources)
    assert settings_hash({"a": 1}, sources) != settings_hash({"a": 2}, sources)
    assert settings_hash({"a": 1}, sources) != settings_hash({"a": 1}, ("sql/predict/activity_periods.sql",))


def test_the_latest_fit_on_or_before_the_day_is_used_and_a_refit_of_a_day_replaces_it(wh: Warehouse) -> None:
    table = "predict.model_fits"
    for day, value in ((FIT_DAY, "first"), (FIT_DAY + timedelta(days=7), "second"), (FIT_DAY, "again")):
        store_fit(wh, table, day, f"run-{value}", "h1", {"models": value})
    assert wh.rows("select fit_day, run_id from predict.model_fits order by 1") == [
        (FIT_DAY, "run-again"),
        (FIT_DAY + timedelta(days=7), "run-second"),
    ]
    stored, later = latest_fit(wh, table, FIT_DAY + timedelta(days=6))
    assert (stored.fit_day, stored.versions, later) == (
        FIT_DAY,
        library_versions(),
        FIT_DAY + timedelta(days=7),
    )
    reused = decide(wh, table, FIT_DAY + timedelta(days=6), "h1", 7, refit=False)
    assert (reused.refit, reused.fitted_on, reused.models) == (False, FIT_DAY, {"models": "again"})
    assert decide(wh, table, FIT_DAY - timedelta(days=1), "h1", 7, refit=False).refit


def test_a_version_change_or_unreadable_bytes_fit_again(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = "segments.cluster_fits"
    store_fit(wh, table, FIT_DAY, "run-1", "h1", {"k": 4})
    monkeypatch.setattr(model_store, "library_versions", lambda: library_versions() | {"numpy": "0.0.1"})
    assert decide(wh, table, FIT_DAY, "h1", 7, refit=False).reason.startswith(
        "library versions changed since the fit on 2026-03-10 (numpy "
    )
    monkeypatch.undo()
    wh.execute("update segments.cluster_fits set fitted = ?", [pickle.dumps({"k": 4})[:-3]])
    unreadable = decide(wh, table, FIT_DAY, "h1", 7, refit=False)
    assert (unreadable.refit, unreadable.reason) == (
        True,
        "the stored models of 2026-03-10 cannot be read (UnpicklingError)",
    )

"""Fitted models kept in the warehouse between runs, and when a run must fit them again.

A stage that fits models (predict: churn and lifetime models; segment: the cluster pipeline) stores
what it fitted with its fit day, a hash of everything the fit depends on (its settings, the code that
fits and the SQL that feeds it) and the library versions it was pickled with. A later day scores with
the stored models while they are fresh, and fits again when:

- a refit is asked for (`refit=True`);
- no model fitted on or before the day is stored (a model fitted on a later day has seen the future);
- the settings or the fitting code changed (another hash), or another scikit-learn/numpy/scipy;
- `every_days` or more have passed since the fit day;
- the stored bytes cannot be read back.

Point in time: the model used on a day is the latest fitted on or before it, so a backfill day far
from every stored fit day fits again, and a rerun of a day within a fit's window reuses that fit.
The stores are tables of their stage (sql/predict/model_fits.sql, sql/segments/cluster_fits.sql).
"""

import hashlib
import json
import pickle
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tasks.shared.warehouse import Warehouse

REPO = Path(__file__).resolve().parents[2]
LIBRARIES = ("scikit-learn", "numpy", "scipy")
# The store tables and their table-definition models (identifiers come from this allowlist only).
STORES = {
    "predict.model_fits": "predict/model_fits",
    "segments.cluster_fits": "segments/cluster_fits",
}


def library_versions() -> dict[str, str]:
    """The versions of the libraries a pickled model depends on."""
    return {name: version(name) for name in LIBRARIES}


def settings_hash(settings: dict[str, Any], sources: tuple[str, ...]) -> str:
    """A hash of the settings a fit depends on and of the source files (repository paths) that fit it."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for source in sources:
        digest.update(source.encode())
        digest.update((REPO / source).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredFit:
    """One stored fit: its day, hash, library versions and the pickled models."""

    fit_day: date
    settings_hash: str
    versions: dict[str, str]
    fitted: bytes


@dataclass(frozen=True)
class Decision:
    """Whether a run fits again and why; the model it uses otherwise."""

    refit: bool
    reason: str
    fitted_on: date | None = None  # the stored fit's day when it is reused
    models: Any = None  # the unpickled models when reused


def latest_fit(wh: Warehouse, table: str, as_of: date) -> tuple[StoredFit | None, date | None]:
    """The latest fit stored on or before as_of, and the earliest fit day after as_of (None if none)."""
    wh.ensure(STORES[table])
    rows = wh.rows(
        f"select fit_day, settings_hash, versions, fitted from {table} "
        "where fit_day <= ? order by fit_day desc limit 1",
        [as_of],
    )
    later = wh.scalar(f"select min(fit_day) from {table} where fit_day > ?", [as_of])
    if not rows:
        return None, later
    fit_day, digest, versions, fitted = rows[0]
    return StoredFit(fit_day, digest, json.loads(versions), bytes(fitted)), later


def refit_reason(
    stored: StoredFit | None,
    later: date | None,
    as_of: date,
    digest: str,
    versions: dict[str, str],
    every_days: int,
    refit: bool,
) -> str | None:
    """Why the models must be fitted again as of as_of (None: the stored fit serves)."""
    if refit:
        return "refit requested"
    if stored is None:
        if later is not None:
            return f"the stored models were fitted on {later}, after {as_of} (they have seen the future)"
        return "no stored models"
    if stored.settings_hash != digest:
        return f"the settings or the fitting code changed since the fit on {stored.fit_day}"
    if stored.versions != versions:
        changed = ", ".join(
            f"{name} {stored.versions.get(name)} -> {versions[name]}"
            for name in sorted(versions)
            if stored.versions.get(name) != versions[name]
        )
        return f"library versions changed since the fit on {stored.fit_day} ({changed})"
    age = (as_of - stored.fit_day).days
    if age >= every_days:
        return f"fitted on {stored.fit_day}, {age} days before {as_of} (refit every {every_days} days)"
    return None


def decide(wh: Warehouse, table: str, as_of: date, digest: str, every_days: int, refit: bool) -> Decision:
    """Fit again, or reuse the stored fit of the latest fit day on or before as_of (unpickled)."""
    stored, later = latest_fit(wh, table, as_of)
    reason = refit_reason(stored, later, as_of, digest, library_versions(), every_days, refit)
    if reason is not None or stored is None:
        return Decision(True, reason or "no stored models")
    try:
        models = pickle.loads(stored.fitted)
    except Exception as error:  # written by other code: fit again rather than guess
        return Decision(
            True, f"the stored models of {stored.fit_day} cannot be read ({type(error).__name__})"
        )
    return Decision(False, f"stored models fitted on {stored.fit_day}", stored.fit_day, models)


def forget_fits_from(wh: Warehouse, day: date) -> dict[str, int]:
    """Delete every stored fit of day or later, of every store; return the fits deleted per store (those with any).

    For a backfill that recomputes day and every published day after it in order: fits made by the earlier
    runs of those days are not what the days would have been scored with in order.
    """
    deleted = {
        table: len(wh.delete_returning(table, "fit_day >= ?", [day], "fit_day"))
        for table in STORES
        if wh.table_exists(table)
    }
    return {table: n for table, n in deleted.items() if n}


def store_fit(wh: Warehouse, table: str, fit_day: date, run_id: str | None, digest: str, models: Any) -> None:
    """Replace the fit of fit_day in a store table with models (pickled)."""
    wh.ensure(STORES[table])
    with wh.transaction():
        wh.execute(f"delete from {table} where fit_day = ?", [fit_day])
        wh.execute(
            f"insert into {table} values (?, ?, ?, ?, ?, ?)",
            [
                fit_day,
                run_id,
                digest,
                json.dumps(library_versions(), sort_keys=True),
                pickle.dumps(models, protocol=pickle.HIGHEST_PROTOCOL),
                datetime.now(UTC),
            ],
        )

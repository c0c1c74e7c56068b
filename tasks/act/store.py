"""The act stage's fitted models, kept in the warehouse between days and refitted on a schedule.

A model (a lookalike's classifiers, the recommender's item similarity) is fitted on a fit day together with
its evaluation, and serves the days after it until one of these says refit (refit_reason): no stored
model (or one this code cannot read), other settings (config, the code's constants, the SQL it reads),
other library versions, act.refit_every_days passed since the fit day, a refit asked for, or a day before
the fit day (a model fitted later has seen that day's future). A served day scores its own inputs with
the stored model and carries the fit day's evaluation, saying which day that was.
"""

import hashlib
import json
import pickle
import platform
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from typing import Any

from tasks.shared.warehouse import Warehouse, sql_path

MODELS = "act.models"
# The libraries whose versions a stored model carries: another version refits (a pickle may not load, or
# the same fit may score otherwise).
LIBRARIES = ("numpy", "scikit-learn", "polars", "duckdb")


@dataclass(frozen=True)
class StoredModel:
    """One row of act.models: a model, its fit day, what it was fitted with, and its pickled payload."""

    model: str
    fit_day: date
    settings_hash: str
    versions: str
    payload: bytes | None

    def load(self) -> Any:
        """The unpickled payload (None when there is none)."""
        return None if self.payload is None else pickle.loads(self.payload)


def settings_hash(settings: dict[str, Any], models: tuple[str, ...] = ()) -> str:
    """A short digest of settings (JSON) and the text of the SQL models the fit reads."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for model in models:
        digest.update(sql_path(model).read_bytes())
    return digest.hexdigest()[:16]


def library_versions() -> str:
    """Python's and LIBRARIES' versions as JSON."""
    versions = {"python": platform.python_version()} | {name: version(name) for name in LIBRARIES}
    return json.dumps(versions, sort_keys=True)


def ensure_store(wh: Warehouse) -> None:
    """act.models and the tables of stored models exist."""
    wh.ensure("act/model_store")


def stored_model(wh: Warehouse, model: str) -> StoredModel | None:
    """The stored model of that name, or None."""
    ensure_store(wh)
    rows = wh.rows(
        f"select model, fit_day, settings_hash, versions, payload from {MODELS} where model = ?", [model]
    )
    return StoredModel(*rows[0]) if rows else None


def refit_reason(
    stored: StoredModel | None, settings: str, as_of: date, every_days: int, refit: bool
) -> str | None:
    """Why the model must be refitted as of as_of, or None when the stored one serves the day."""
    if refit:
        return "a refit was asked for"
    if stored is None:
        return "no stored model"
    if stored.settings_hash != settings:
        return "the settings changed since the fit"
    if stored.versions != library_versions():
        return "the library versions changed since the fit"
    if stored.fit_day > as_of:
        return f"the stored model was fitted on a later day ({stored.fit_day})"
    if (as_of - stored.fit_day).days >= every_days:
        return f"the stored model is {(as_of - stored.fit_day).days} days old (refit every {every_days})"
    return None


def keeps_later(stored: StoredModel | None, as_of: date) -> bool:
    """Whether the stored model was fitted after as_of: a backfill's fit then serves its day only, and the
    stored model keeps serving the later days (a backfill never changes what later days are scored with)."""
    return stored is not None and stored.fit_day > as_of


def loaded(stored: StoredModel | None) -> Any:
    """The stored payload, or None when there is no model or its payload cannot be read (then refit)."""
    if stored is None:
        return None
    try:
        return stored.load()
    except Exception:  # written by other code or libraries: not an answer to serve from
        return None


def save_model(wh: Warehouse, model: str, fit_day: date, settings: str, payload: Any) -> None:
    """Store (replace) a model fitted on fit_day with its settings hash, the library versions and a payload."""
    ensure_store(wh)
    with wh.transaction():
        wh.execute(f"delete from {MODELS} where model = ?", [model])
        wh.execute(
            f"insert into {MODELS} values (?, ?, ?, ?, ?)",
            [model, fit_day, settings, library_versions(), pickle.dumps(payload)],
        )


def forget_models_from(wh: Warehouse, day: date) -> list[str]:
    """Delete the stored models fitted on day or later; return their names.

    For a backfill that recomputes day and every published day after it in order: the first of them fits
    again and stores its model, as a run in order would have (instead of keeping the later model).
    """
    if not wh.table_exists(MODELS):
        return []
    return sorted(name for (name,) in wh.delete_returning(MODELS, "fit_day >= ?", [day], "model"))


def forget_models(wh: Warehouse, prefix: str, keep: list[str]) -> list[str]:
    """Delete the stored models whose name starts with prefix and is not in keep; return their names."""
    ensure_store(wh)
    names = [name for (name,) in wh.rows(f"select model from {MODELS} where starts_with(model, ?)", [prefix])]
    gone = [name for name in names if name not in keep]
    for name in gone:
        wh.execute(f"delete from {MODELS} where model = ?", [name])
    return gone


def clear_store(wh: Warehouse) -> None:
    """Forget every stored model (the stage is off: a later day starts from a fit)."""
    ensure_store(wh)
    for table in (MODELS, "act.lookalike_folds", "act.item_similarity_model"):
        wh.execute(f"delete from {table}")

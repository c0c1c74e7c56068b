"""The fitted matcher: what a fit learns from the data, stored in the warehouse and reused until a refit is due.

A fit (tasks.dedupe.scoring.match_records without a model) learns everything data-dependent that decides
which pairs are candidates and how they score: the blocking rules chosen under the pair budget, m and u of
each comparison level, the prior two records start from, the term frequencies of the adjusted comparisons,
the document frequencies that weigh the tokens of free texts, and the decimal separator of each column of
text amounts. A later run scores with the stored model (core.match_model, core.match_model_values) until
refit_reason says the model is stale: then it fits again. Scoring with a model is a function of each pair's
two records alone, which is what lets tasks.dedupe.incremental keep the links of unchanged records.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np
import polars as pl

from tasks.dedupe.blocking import BlockingRule
from tasks.dedupe.comparisons import Comparison
from tasks.dedupe.training import Parameters
from tasks.shared.warehouse import Warehouse, quote_identifier

# Bump when what a model holds, or how it scores, changes: older models are refitted. 2: street words abbreviated
# in the prepared address; 3: gender's m of "different" capped (Comparison.max_m_different); 4: location
# comparisons nested (tasks.dedupe.levels.nest_locations), a numeric comparison has only the levels it is given;
# 5: a coarser location that differs counts again, and m needs MIN_EM_SUPPORT likely matches; 6: two people
# (comparisons.PersonConflict) are never linked; 7: nor are the pairs sharing a value they hold labels, a full name
# "Family, Given" is read in that order, and ø, ł, æ, ß … are spelt o, l, ae, ss; 8: an initial and a name it begins
# (J, John) are no evidence, not two names (levels.INITIAL); 9: EM's weights rise with agreement (training.monotone),
# a strong identifier's "different" is capped at IDENTIFIER_MAX_M_DIFFERENT, a name's or birth date's at half its
# u, and two of them held there anchor the fit at their prior (a CRM without duplicates).
MODEL_VERSION = 9

MODEL_SCHEMA = {
    "model_id": pl.String,
    "version": pl.Int32,
    "settings_hash": pl.String,
    "fitted_as_of": pl.Date,
    "records": pl.Int64,
    "prior": pl.Float64,
    "em_prior": pl.Float64,
    "iterations": pl.Int32,
    "rules": pl.List(pl.String),
    "blocking": pl.String,  # JSON: the rules the data offered at the fit, their pairs, whether chosen
    "parameters": pl.String,  # JSON: per comparison, its column, m and u of each level
    "decimals": pl.String,  # JSON: per numeric comparison of text, its decimal separator
}
VALUE_SCHEMA = {
    "comparison": pl.String,  # a comparison (term frequencies) or a prepared text column (tokens)
    "kind": pl.String,  # term_frequency | tokens
    "value": pl.String,
    "share": pl.Float64,  # term_frequency: the share of records with the value
    "records": pl.Int64,  # tokens: the records whose text has the token
    "total": pl.Int64,  # tokens: the records with a text
}


@dataclass(frozen=True)
class MatchModel:
    """A fitted matcher: everything a run needs to propose and score candidate pairs like the fit did."""

    parameters: Parameters  # m and u per comparison (parameters.prior: the match share EM found)
    prior: float  # the match probability of two records taken at random: every score starts from it
    rules: tuple[str, ...]  # the blocking rules proposing candidate pairs
    frequencies: dict[str, pl.DataFrame]  # comparison -> value, share (term frequency adjustment)
    token_records: dict[str, tuple[pl.DataFrame, int]]  # text column -> (token, records), records with a text
    decimals: dict[str, str] = field(default_factory=dict)  # numeric comparison of text -> decimal separator
    blocking: tuple[BlockingRule, ...] = ()  # the rules the data offered at the fit (for the run summary)
    settings_hash: str = ""
    fitted_as_of: date | None = None
    records: int = 0  # records at the fit

    @property
    def model_id(self) -> str:
        """An identifier of this fit (its settings, day, records and parameters)."""
        content = json.dumps(
            [self.settings_hash, str(self.fitted_as_of), self.records, self.prior, _parameters_json(self)],
            sort_keys=True,
        )
        return hashlib.sha256(content.encode()).hexdigest()[:16]


def settings_hash(
    comparisons: Sequence[Comparison],
    rules: Sequence[str] | None,
    max_block_size: int,
    max_candidate_pairs: int,
    link_type: str,
    threshold: float,
    person_conflicts: bool,
) -> str:
    """A hash of the settings a fitted model depends on: a model fitted under other settings is refitted."""
    content = {
        "version": MODEL_VERSION,
        "comparisons": [asdict(c) for c in comparisons],
        "rules": None if rules is None else list(rules),
        "max_block_size": max_block_size,
        "max_candidate_pairs": max_candidate_pairs,
        "link_type": link_type,
        "threshold": threshold,
        "person_conflicts": person_conflicts,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoredModel:
    """What refit_reason reads of the stored model: its settings hash, fit day, records and version."""

    settings_hash: str
    fitted_as_of: date
    records: int
    version: int = MODEL_VERSION


def refit_reason(
    stored: StoredModel | None,
    settings: str,
    as_of: date,
    records: int,
    every_days: int,
    drift: float,
    requested: bool = False,
) -> str | None:
    """Why the matcher is fitted again this run (None: score with the stored model).

    Refitted when asked, when no model is stored (or one written by older code), when the settings it
    depends on changed, when as_of is every_days or more from the fit day in either direction, when the
    fit day is after as_of (a backfill before the fit: the model holds records from after as_of, so point
    in time it cannot serve), and when the records drifted by more than the share drift from the fit's.
    """
    if requested:
        return "refit requested"
    if stored is None:
        return "no fitted model stored"
    if stored.version != MODEL_VERSION:
        return f"model stored by older code (version {stored.version})"
    if stored.settings_hash != settings:
        return "matcher settings changed since the fit"
    if stored.fitted_as_of > as_of:
        return f"model fitted on a later day ({stored.fitted_as_of}) than as_of"
    if abs((as_of - stored.fitted_as_of).days) >= every_days:
        return f"model fitted {abs((as_of - stored.fitted_as_of).days)} days from as_of (refit every {every_days})"
    if abs(records - stored.records) > drift * max(stored.records, 1):
        return f"records drifted from {stored.records} at the fit to {records}"
    return None


def _parameters_json(model: MatchModel) -> str:
    """m, u and column of each comparison as JSON (floats written exactly)."""
    parameters = model.parameters
    return json.dumps(
        {
            name: {
                "column": parameters.columns.get(name),
                "m": [float(x) for x in parameters.m[name]],
                "u": [float(x) for x in parameters.u[name]],
            }
            for name in parameters.m
        }
    )


def model_frames(model: MatchModel) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of core.match_model (one) and core.match_model_values for a fitted model."""
    row = {
        "model_id": model.model_id,
        "version": MODEL_VERSION,
        "settings_hash": model.settings_hash,
        "fitted_as_of": model.fitted_as_of,
        "records": model.records,
        "prior": model.prior,
        "em_prior": model.parameters.prior,
        "iterations": model.parameters.iterations,
        "rules": list(model.rules),
        "blocking": json.dumps([asdict(b) for b in model.blocking]),
        "parameters": _parameters_json(model),
        "decimals": json.dumps(model.decimals),
    }
    values = [pl.DataFrame(schema=VALUE_SCHEMA)]
    for name, frame in model.frequencies.items():
        values.append(
            frame.select(
                comparison=pl.lit(name),
                kind=pl.lit("term_frequency"),
                value=pl.col("value").cast(pl.String),
                share=pl.col("share").cast(pl.Float64),
                records=pl.lit(None, pl.Int64),
                total=pl.lit(None, pl.Int64),
            )
        )
    for column, (frame, total) in model.token_records.items():
        # a row without a value keeps the total even when no text had a token
        tokens = pl.DataFrame({"token": [None], "records": [None]}, schema=frame.schema).vstack(frame)
        values.append(
            tokens.select(
                comparison=pl.lit(column),
                kind=pl.lit("tokens"),
                value=pl.col("token").cast(pl.String),
                share=pl.lit(None, pl.Float64),
                records=pl.col("records").cast(pl.Int64),
                total=pl.lit(total, pl.Int64),
            )
        )
    frame = pl.concat(values, how="vertical_relaxed").cast(VALUE_SCHEMA)  # type: ignore[arg-type]
    return pl.DataFrame([row], schema=MODEL_SCHEMA), frame


def store_model(wh: Warehouse, model: MatchModel) -> None:
    """Replace the stored model (core.match_model, core.match_model_values) with this one."""
    row, values = model_frames(model)
    wh.write_frame("_match_model", row, temp=True)
    wh.write_frame("_match_model_values", values, temp=True)
    wh.build("core.match_model", "core/match_model")
    wh.build("core.match_model_values", "core/match_model_values")
    wh.execute("drop table _match_model")
    wh.execute("drop table _match_model_values")


def stored_model_info(wh: Warehouse) -> StoredModel | None:
    """The stored model's settings hash, fit day, records and version (None: no model stored)."""
    if not wh.table_exists("core.match_model"):
        return None
    rows = wh.rows(wh.model_sql("core/match_model_info"))
    if not rows:
        return None
    settings, fitted, records, version = rows[0]
    return StoredModel(settings, fitted, int(records), int(version))


def load_model(
    wh: Warehouse,
    comparisons: Sequence[Comparison],
    table: str = "core.match_model",
    values_table: str = "core.match_model_values",
) -> MatchModel:
    """The stored model, for these comparisons (whose settings it was fitted with: see settings_hash).
    table, values_table: where it is stored (model_frames' rows; a pair shard's work tables)."""
    row = wh.frame(f"select * from {quote_identifier(table)}").row(0, named=True)
    values = wh.frame(f"select * from {quote_identifier(values_table)}")
    stored = json.loads(row["parameters"])
    parameters = Parameters(
        m={name: np.array(item["m"], dtype=np.float64) for name, item in stored.items()},
        u={name: np.array(item["u"], dtype=np.float64) for name, item in stored.items()},
        prior=float(row["em_prior"]),
        iterations=int(row["iterations"]),
        columns={c.name: c.column for c in comparisons},
    )
    frequencies = {
        name: group.select("value", "share")
        for (name,), group in values.filter(pl.col("kind") == "term_frequency").group_by("comparison")
    }
    tokens = {
        column: (group.select(token="value", records="records").drop_nulls("token"), int(group["total"][0]))
        for (column,), group in values.filter(pl.col("kind") == "tokens").group_by("comparison")
    }
    for c in comparisons:  # a comparison whose values were all missing at the fit has an empty table
        if c.term_frequency and c.name not in frequencies:
            frequencies[c.name] = pl.DataFrame(schema={"value": pl.String, "share": pl.Float64})
    blocking = tuple(BlockingRule(**b) for b in json.loads(row["blocking"]))
    return MatchModel(
        parameters=parameters,
        prior=float(row["prior"]),
        rules=tuple(row["rules"]),
        frequencies=frequencies,
        token_records=tokens,
        decimals=json.loads(row["decimals"]),
        blocking=blocking,
        settings_hash=row["settings_hash"],
        fitted_as_of=row["fitted_as_of"],
        records=int(row["records"]),
    )

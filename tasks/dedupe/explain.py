"""Explained links: the match weight of each comparison behind a probabilistic link (a waterfall, as Splink draws it).

Every dedupe run stores what its matcher scored with and what it found (sql/core/match_*.sql):
core.match_parameters (m, u and the match weight of each comparison's levels, and the prior),
core.match_links (the links at or above the threshold) and core.match_evidence (per link the prior,
then each comparison's level and weight: they sum to the link's match weight). explain_pair scores any
two customer records again, linked or not, with the stored parameters of the last run.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl
from rich.cells import cell_len, set_cell_size

from tasks.dedupe import customer_match_records, match_settings
from tasks.dedupe.comparisons import Comparison
from tasks.dedupe.levels import IMPLIED, INITIAL, code_records, comparison_levels
from tasks.dedupe.model import load_model
from tasks.dedupe.preparation import prepare_records
from tasks.dedupe.scoring import MatchOutcome, score_pairs
from tasks.dedupe.training import Parameters, term_frequencies
from tasks.shared.config import PipelineConfig
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

PRIOR = "prior"  # the comparison name of the prior's row in core.match_parameters and core.match_evidence
PRIOR_LABEL = "two records at random"
MISSING_LABEL = "missing on a side"  # level -1 (sql/core/match_evidence.sql names it the same)
IMPLIED_LABEL = "implied by a finer location that agrees"  # levels.IMPLIED (match_evidence.sql: the same)
INITIAL_LABEL = "an initial and a name it begins"  # levels.INITIAL (match_evidence.sql: the same)
NO_EVIDENCE = {-1: MISSING_LABEL, IMPLIED: IMPLIED_LABEL, INITIAL: INITIAL_LABEL}
# what differs in a person conflict, by attribute (render_explanation)
CONFLICT_WORDS = {"gender": "sex", "birth_date": "birth dates (more than a year apart)"}
LINK_KEY = ("source_a", "id_a", "source_b", "id_b")

PARAMETER_SCHEMA = {
    "comparison": pl.String,
    "position": pl.Int32,
    "kind": pl.String,
    "attribute": pl.String,
    "term_frequency": pl.Boolean,
    "level": pl.Int8,
    "label": pl.String,
    "m": pl.Float64,
    "u": pl.Float64,
}
LINK_SCHEMA = {
    **dict.fromkeys(LINK_KEY, pl.String),
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "rule": pl.String,
    "used": pl.Boolean,
}
EVIDENCE_SCHEMA = {
    **dict.fromkeys(LINK_KEY, pl.String),
    "comparison": pl.String,
    "level": pl.Int8,
    "match_weight": pl.Float64,
}


def prior_weight(prior: float) -> float:
    """The match weight (log2 odds) of a prior match probability, as scoring starts from it."""
    return float(np.log2(prior / (1 - prior)))


def parameter_rows(comparisons: Sequence[Comparison], parameters: Parameters, prior: float) -> pl.DataFrame:
    """The rows of core.match_parameters before their weights: the prior, then each comparison's levels."""
    rows = [(PRIOR, 0, None, None, False, None, PRIOR_LABEL, prior, 1 - prior)]
    for position, item in enumerate(comparisons, start=1):
        m, u = parameters.m[item.name], parameters.u[item.name]
        rows += [
            (
                item.name,
                position,
                item.kind,
                item.attribute,
                item.term_frequency,
                level,
                label,
                m[level],
                u[level],
            )
            for level, label in enumerate(item.labels())
        ]
    return pl.DataFrame(rows, schema=PARAMETER_SCHEMA, orient="row")


def link_rows(outcome: MatchOutcome, links: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Every link the matcher found (outcome.links, nodes being rows of records), named by its records,
    with its l_/w_ columns and whether it was used (kept by the one-to-one constraint, in links)."""
    found = outcome.links
    ids = records.select("record_source", "record_id")
    left, right = ids[found["left"].to_numpy()], ids[found["right"].to_numpy()]
    named = pl.concat(
        [
            left.rename({"record_source": "source_a", "record_id": "id_a"}),
            right.rename({"record_source": "source_b", "record_id": "id_b"}),
            found.drop("left", "right"),
        ],
        how="horizontal",
    )
    used = links.select(*LINK_KEY).with_columns(used=pl.lit(True))
    return named.join(used, on=list(LINK_KEY), how="left", maintain_order="left").with_columns(
        pl.col("used").fill_null(False)
    )


def evidence_rows(links: pl.DataFrame, comparisons: Sequence[Comparison], prior: float) -> pl.DataFrame:
    """One row per link and step: the prior, then each comparison's level (l_<name>) and weight (w_<name>)."""
    steps = [
        links.select(
            *LINK_KEY,
            comparison=pl.lit(PRIOR),
            level=pl.lit(None, dtype=pl.Int8),
            match_weight=pl.lit(prior_weight(prior)),
        )
    ]
    steps += [
        links.select(
            *LINK_KEY,
            comparison=pl.lit(item.name),
            level=pl.col(f"l_{item.name}"),
            match_weight=pl.col(f"w_{item.name}"),
        )
        for item in comparisons
    ]
    return pl.concat(steps, how="vertical_relaxed").cast(EVIDENCE_SCHEMA)  # type: ignore[arg-type]


def store_match_evidence(
    wh: Warehouse,
    config: PipelineConfig,
    outcome: MatchOutcome | None = None,
    links: pl.DataFrame | None = None,
    records: pl.DataFrame | None = None,
) -> int:
    """Replace core.match_parameters, core.match_links and core.match_evidence with what this run's
    matcher did (empty without an outcome: the tables of an earlier run do not linger); return the links.

    outcome: match_records' outcome over records (its nodes are rows of records); links: the links used
    (tasks.dedupe.probabilistic_links, after the one-to-one constraint).
    """
    comparisons = match_settings(config).comparisons
    parameters = pl.DataFrame(schema=PARAMETER_SCHEMA)
    found = pl.DataFrame(schema=LINK_SCHEMA)
    evidence = pl.DataFrame(schema=EVIDENCE_SCHEMA)
    if outcome is not None and outcome.parameters is not None and outcome.prior is not None:
        parameters = parameter_rows(comparisons, outcome.parameters, outcome.prior)
    if outcome is not None and outcome.prior is not None and links is not None and records is not None:
        named = link_rows(outcome, links, records)
        found = named.select(*LINK_SCHEMA).cast(LINK_SCHEMA)  # type: ignore[arg-type]
        evidence = evidence_rows(named, comparisons, outcome.prior)
    for table, frame in (
        ("_match_parameters", parameters),
        ("_match_links", found),
        ("_match_evidence", evidence),
    ):
        wh.write_frame(table, frame, temp=True)
    del evidence
    wh.build("core.match_parameters", "core/match_parameters")
    count = wh.build("core.match_links", "core/match_links")
    wh.build("core.match_evidence", "core/match_evidence")
    for table in ("_match_parameters", "_match_links", "_match_evidence"):
        wh.execute(f"drop table {table}")
    return count


def trained_comparisons(stored: pl.DataFrame) -> dict[str, dict[str, object]]:
    """What each comparison of core.match_parameters (the prior left out) was: its kind, attribute,
    term_frequency and level labels."""
    return {
        name: {
            "kind": group["kind"][0],
            "attribute": group["attribute"][0],
            "term_frequency": group["term_frequency"][0],
            "levels": tuple(group["label"]),
        }
        for (name,), group in stored.filter(pl.col("level").is_not_null()).group_by(
            "comparison", maintain_order=True
        )
    }


def _setting(value: object) -> str:
    """A comparison setting as the config writes it (true/false, levels in parentheses)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return f"({', '.join(map(str, value))})"
    return str(value)


def comparison_changes(trained: dict[str, dict[str, object]], comparisons: Sequence[Comparison]) -> list[str]:
    """How these comparisons differ from the trained ones (trained_comparisons), one phrase per comparison
    that changed, in the config's order then the dropped ones; empty when the stored parameters fit them."""
    changes = []
    for item in comparisons:
        now = {
            "kind": item.kind,
            "attribute": item.attribute,
            "term_frequency": item.term_frequency,
            "levels": item.labels(),
        }
        before = trained.get(item.name)
        if before is None:
            changes.append(f"{item.name} is new")
            continue
        changed = [
            f"{setting} {_setting(before[setting])} -> {_setting(value)}"
            for setting, value in now.items()
            if before[setting] != value
        ]
        if changed:
            changes.append(f"{item.name}: {', '.join(changed)}")
    names = {item.name for item in comparisons}
    changes += [f"{name} was dropped" for name in trained if name not in names]
    return changes


def stored_parameters(wh: Warehouse, comparisons: Sequence[Comparison]) -> tuple[Parameters, float]:
    """The parameters and prior of the last dedupe run (core.match_parameters), for these comparisons
    (a DataError when any comparison's kind, attribute, term frequency or levels changed since)."""
    if not wh.table_exists("core.match_parameters"):
        raise DataError("no match parameters in the warehouse yet: run dedupe (segments run) first")
    stored = wh.frame("select * from core.match_parameters order by position, level")
    if stored.is_empty():
        raise DataError(
            "the last dedupe run trained no probabilistic matcher (dedupe.probabilistic off, too few "
            "records or no candidate pairs): there is nothing to explain a pair with"
        )
    prior = float(stored.filter(pl.col("comparison") == PRIOR)["m"][0])
    trained = trained_comparisons(stored)
    changes = comparison_changes(trained, comparisons)
    if changes:
        raise DataError(
            "the config's comparisons (dedupe.comparisons) differ from those the last dedupe run trained "
            f"({'; '.join(changes)}): run dedupe again to explain pairs with them"
        )
    m = {name: stored.filter(pl.col("comparison") == name)["m"].to_numpy() for name in trained}
    u = {name: stored.filter(pl.col("comparison") == name)["u"].to_numpy() for name in trained}
    columns = {item.name: item.column for item in comparisons}
    return Parameters(m=m, u=u, prior=prior, iterations=0, columns=columns), prior


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: the prior or a comparison, its level and match weight, the running total."""

    comparison: str
    level: int | None
    label: str
    match_weight: float
    total: float
    term_frequency_adjusted: bool = False
    values: tuple[str, str] | None = None  # the compared values of the two records (explain_pair)


@dataclass(frozen=True)
class PairExplanation:
    """How the matcher scores two customer records with the parameters of the last dedupe run."""

    records: tuple[str, str]  # source:source_id of each, as asked
    steps: list[Step]
    match_weight: float
    match_probability: float
    threshold: float
    customer_ids: tuple[str | None, str | None]
    link_used: bool | None  # a stored link joins them: True used, False left out by one-to-one, None none
    # a person conflict (comparisons.PersonConflict: never linked, probability 0): the attributes besides the given
    # name that differ (gender, birth_date); empty when the two are no conflict
    conflicting: tuple[str, ...] = ()
    # the key values both hold that records of two people hold, not linked on (tasks/dedupe/households.py):
    # 'phone_norm=+86...'
    households: tuple[str, ...] = ()


@dataclass(frozen=True)
class LinkWaterfall:
    """A stored probabilistic link of the last dedupe run and its waterfall (core.match_evidence)."""

    records: tuple[str, str]  # source:source_id of each
    match_probability: float
    match_weight: float
    rule: str
    steps: list[Step]


def customer_waterfalls(wh: Warehouse, customer_id: str) -> list[LinkWaterfall] | None:
    """The probabilistic links among one customer's records with their waterfalls, best first
    (None when the warehouse holds no match evidence: its last dedupe run predates it)."""
    if not wh.table_exists("core.match_evidence"):
        return None
    found: dict[tuple[str, ...], LinkWaterfall] = {}
    for row in wh.select("core/match_waterfall", {"customer_id": customer_id}):
        key = tuple(row[column] for column in LINK_KEY)
        if key not in found:
            found[key] = LinkWaterfall(
                records=(f"{key[0]}:{key[1]}", f"{key[2]}:{key[3]}"),
                match_probability=row["link_probability"],
                match_weight=row["link_weight"],
                rule=row["rule"],
                steps=[],
            )
        found[key].steps.append(
            Step(
                row["comparison"],
                row["level"],
                row["label"],
                row["match_weight"],
                row["running_weight"],
                row["term_frequency_adjusted"],
            )
        )
    return list(found.values())


def parse_record(key: str) -> tuple[str, str]:
    """A customer record written source:source_id as (source, source_id)."""
    source, _, source_id = key.partition(":")
    if not source or not source_id:
        raise DataError(f"{key!r} is not a customer record: write it as source:source_id")
    return source, source_id


def _shown(value: object, kind: str) -> str:
    """A prepared value as the waterfall shows it (a date comparison's days as a date)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if kind == "date":
        return (date(1970, 1, 1) + timedelta(days=int(value))).isoformat()
    if kind == "birth_date" and isinstance(value, str) and len(value) == 8:  # prepared as YYYYMMDD
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def explain_pair(
    wh: Warehouse, config: PipelineConfig, first: tuple[str, str], second: tuple[str, str]
) -> PairExplanation:
    """The waterfall of any two customer records (linked or not), scored again with the stored parameters.

    As the run scored them: levels over the records' prepared values, term frequencies of the stored
    fitted model (core.match_model; without one, as after an erasure until the next run fits it again, over all
    the records), the prior of two records taken at random; the lower record (in record order) is the left one.
    """
    if first == second:
        raise DataError("explain two different customer records")
    settings = match_settings(config)
    comparisons = settings.comparisons
    parameters, prior = stored_parameters(wh, comparisons)
    records = customer_match_records(wh, config)
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    nodes = []
    for source, source_id in (first, second):
        found = numbered.filter((pl.col("record_source") == source) & (pl.col("record_id") == source_id))
        if found.is_empty():
            raise DataError(f"no customer record {source}:{source_id} among the records dedupe compared")
        nodes.append(int(found["node"][0]))
    inputs = numbered.drop("record_source", "record_id")
    # the fitted model the run scored with: its frequencies (none after an erasure dropped it until the next run)
    if wh.table_exists("core.match_model") and wh.rows("select count(*) from core.match_model")[0][0]:
        model = load_model(wh, comparisons)
        two = prepare_records(inputs.filter(pl.col("node").is_in(nodes)), comparisons, model.decimals)
        frequencies = model.frequencies
        coded = code_records(two, comparisons, model.token_records)
    else:
        prepared = prepare_records(inputs, comparisons)
        frequencies = term_frequencies(prepared, comparisons)
        two = prepared.filter(pl.col("node").is_in(nodes))
        # a text comparison weighs tokens by their frequency among all the records: code them all then
        coded = code_records(prepared if any(c.kind == "text" for c in comparisons) else two, comparisons)
    pairs = pl.DataFrame({"left": [min(nodes)], "right": [max(nodes)]})
    levels = comparison_levels(two, pairs, coded, comparisons)
    conflict = settings.conflict
    scored = score_pairs(two, pairs, levels, parameters, frequencies, prior, evidence=True, conflict=conflict)
    scored = scored.row(0, named=True)
    rows = {node: two.filter(pl.col("node") == node).row(0, named=True) for node in nodes}
    attributes = {item.name: item.attribute for item in comparisons}
    total = prior_weight(prior)
    steps = [Step(PRIOR, None, PRIOR_LABEL, total, total)]
    for item in comparisons:
        level, weight = scored[f"l_{item.name}"], scored[f"w_{item.name}"]
        total += weight
        top = level == item.levels - 1 and item.term_frequency
        values = tuple(_shown(rows[node][item.column], item.kind) for node in nodes)
        label = NO_EVIDENCE[level] if level < 0 else item.labels()[level]
        steps.append(Step(item.name, level, label, weight, total, top, values))  # type: ignore[arg-type]
    ends = {"source_a": first[0], "id_a": first[1], "source_b": second[0], "id_b": second[1]}
    pair = wh.select("core/match_pair", ends)[0]
    households = (
        wh.rows(wh.model_sql("core/match_pair_households"), ends)
        if wh.table_exists("core.identity_two_people")
        else []
    )
    return PairExplanation(
        records=(":".join(first), ":".join(second)),
        steps=steps,
        match_weight=scored["match_weight"],
        match_probability=scored["match_probability"],
        threshold=config.dedupe.match_threshold,
        customer_ids=(pair["customer_a"], pair["customer_b"]),
        link_used=pair["link_used"],
        conflicting=tuple(attributes[name] for name in conflict.reasons(levels, 0)) if conflict else (),
        households=tuple(f"{key}={value}" for key, value in households),
    )


def probability_text(probability: float) -> str:
    """A match probability for the terminal: six decimals, or scientific below 0.0001 (0 for two people)."""
    if probability == 0:
        return "0"
    return f"{probability:.6f}" if probability >= 1e-4 else f"{probability:.2e}"


def waterfall_lines(
    steps: Sequence[Step], names: tuple[str, str] | None = None, indent: str = "    "
) -> list[str]:
    """The waterfall as aligned text lines: comparison, (the two values), level, weight, running total."""
    shown_values = names is not None and any(step.values for step in steps)
    header = ["comparison", *(names if shown_values else ()), "level", "weight", "total"]
    rows = []
    for step in steps:
        label = step.label + (" (term frequency)" if step.term_frequency_adjusted else "")
        values = list(step.values or ("", "")) if shown_values else []
        rows.append([step.comparison, *values, label, f"{step.match_weight:+.2f}", f"{step.total:+.2f}"])
    # widths in terminal cells: a Han character takes two
    widths = [max(cell_len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    text_columns = len(header) - 2

    def line(row: list[str]) -> str:
        columns = list(zip(row, widths, strict=True))
        left = "  ".join(set_cell_size(cell, min(width, 40)) for cell, width in columns[:text_columns])
        right = "  ".join(f"{cell:>{width}}" for cell, width in columns[text_columns:])
        return f"{indent}{left}  {right}".rstrip()

    return [line(header), *(line(row) for row in rows)]


def render_explanation(explanation: PairExplanation) -> str:
    """A pair's explanation as plain text for the terminal."""
    first, second = explanation.records
    customers = explanation.customer_ids
    if explanation.link_used:
        linked = "linked by the last dedupe run"
    elif explanation.link_used is False:
        linked = "a link of the last dedupe run that the one-to-one constraint left out"
    else:
        linked = "not linked by a probabilistic link of the last dedupe run"
    same = customers[0] is not None and customers[0] == customers[1]
    lines = [
        f"{first} and {second}: {linked}; "
        + (f"both are customer {customers[0]}" if same else f"customers {customers[0]} and {customers[1]}"),
        "",
        "Match weights in bits (log2 of each comparison's Bayes factor), from the prior:",
        *waterfall_lines(explanation.steps, (first, second)),
        "",
        f"match weight {explanation.match_weight:+.2f}, match probability "
        f"{probability_text(explanation.match_probability)} "
        + ("at or above" if explanation.match_probability >= explanation.threshold else "below")
        + f" the threshold {explanation.threshold:g}",
    ]
    if explanation.conflicting:
        differing = " and ".join(CONFLICT_WORDS[attribute] for attribute in explanation.conflicting)
        lines.append(
            f"two people whatever the weight: their given names differ, and so do their {differing}; never linked "
            "probabilistically (dedupe.person_conflicts)"
        )
    if explanation.households:
        lines.append(
            f"they share {', '.join(explanation.households)}, which records of two people hold: a household's, "
            "not linked on (dedupe.person_conflicts)"
        )
    return "\n".join(lines) + "\n"

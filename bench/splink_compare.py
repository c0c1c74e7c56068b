"""Compare our matcher with a standard Splink model on every evaluation set: pairwise and cluster scores, time.

Run with the bench dependency group: `make bench-splink` (uv sync --frozen --group bench first).
For each set the ordinary config path runs first (extract, then dedupe with our matcher, default
settings unless the config says otherwise), and Splink then gets the same records: the customer
records our matcher reads (tasks.dedupe.customer_match_records: the records observed as of the day,
their canonical fields and the sources' match_columns), the fields prepared by
tasks.dedupe.preparation.prepare_records so both compare identically cleaned values. Each set
gets the standard Splink model of its kind, after Splink's own tutorials (DuckDB backend, u by random
sampling, m by EM on two blocking rules, clusters at the same threshold as ours):

- persons (fake_1000, FEBRL, the generator): names with term frequencies, date of birth, city,
  identifiers; prior from deterministic rules; wide prediction blocking;
- historical (generated): as Splink's historical_50k tutorial: names, date of birth, birth place and
  occupation with term frequencies, postcode, gender; its prediction blocking;
- transactions (generated): as Splink's transactions tutorial, link_only: amount (exact, cents,
  relative differences), date (exact, 1, 3 days), memo tokens in common; blocking on amount and on date;
  one-to-one clusters (single best links), as the config asks of ours.

Generated sets are written into a temporary folder and removed; data never enters git.
`python bench/splink_compare.py historical transactions` runs only the sets named (fake_1000, febrl3,
febrl4, generator-default, generator-hard, generator-adversarial, historical, transactions).
"""

import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from evaluation.datasets import SETS, make_set  # noqa: E402
from evaluation.linkage import (  # noqa: E402
    cluster_scores,
    pairwise_scores,
    score_resolution,
    truth_from_expression,
    truth_from_file,
)
from sampledata.distributions import DIFFICULTIES  # noqa: E402
from sampledata.generate import generate  # noqa: E402
from tasks.dedupe import customer_match_records  # noqa: E402
from tasks.dedupe.comparisons import MATCH_FIELDS  # noqa: E402
from tasks.dedupe.preparation import prepare_records  # noqa: E402
from tasks.shared.config import PipelineConfig, load_config  # noqa: E402
from tasks.shared.warehouse import Warehouse  # noqa: E402

THRESHOLD = 0.9
END = date(2026, 11, 22)
FEBRL_TRUTH = "regexp_extract(rec_id, 'rec-([0-9]+)', 1)"
GENERATOR_DIFFICULTIES = ("default", "hard", "adversarial")
NOTES: list[str] = []  # what a model reports about its own run, printed under the table


@dataclass(frozen=True)
class EvaluationSet:
    """One row of the comparison: a config, its ground truth, and which Splink model fits it."""

    name: str
    config: Path
    truth_expression: str | None
    truth_file: Path | None
    model: str  # persons, historical or transactions


def _linker(tables: object, settings: object) -> object:
    from splink import Linker

    return Linker(tables, settings, log_level=logging.WARNING)


def _clusters_frame(clusters: object) -> pl.DataFrame:
    result = pl.from_arrow(clusters.as_duckdbpyrelation().select("item, cluster_id").to_arrow_table())
    return result.select("item", cluster=pl.col("cluster_id").cast(pl.String))


def person_clusters(records: pl.DataFrame) -> pl.DataFrame:
    """Splink's clusters (item, cluster) of prepared person records: the model of its person tutorials."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, SettingsCreator, block_on

    present = {c for c in records.columns if records[c].null_count() < records.height}
    frame = records.with_columns(dob_date=pl.col("dob").str.strptime(pl.Date, "%Y%m%d", strict=False))
    options = [
        ("given", lambda: cl.NameComparison("given").configure(term_frequency_adjustments=True)),
        ("family", lambda: cl.NameComparison("family").configure(term_frequency_adjustments=True)),
        ("dob", lambda: cl.DateOfBirthComparison("dob_date", input_is_string=False)),
        ("city", lambda: cl.ExactMatch("city").configure(term_frequency_adjustments=True)),
        ("postcode", lambda: cl.LevenshteinAtThresholds("postcode", [1])),
        ("address", lambda: cl.JaroWinklerAtThresholds("address", [0.9, 0.75])),
        ("national_id", lambda: cl.LevenshteinAtThresholds("national_id", [1, 2])),
        ("email", lambda: cl.EmailComparison("email")),
        ("phone", lambda: cl.LevenshteinAtThresholds("phone", [1, 2])),
    ]
    comparisons = [make() for column, make in options if column in present]
    wide = [
        block_on("given", "family"),
        block_on("dob"),
        block_on("family", "dob_year"),
        block_on("given", "dob_year"),
    ]
    wide += [block_on(c) for c in ("email", "phone", "national_id") if c in present]
    wide += [block_on("postcode", "family")] if "postcode" in present else []
    wide += [block_on("city", "family")] if "city" in present else []
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="item",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=wide,
        retain_intermediate_calculation_columns=False,
    )
    db = DuckDBAPI()
    linker = _linker(db.register(frame.drop("node").to_arrow(), table_name="records"), settings)
    deterministic = [block_on(c) for c in ("email", "phone", "national_id") if c in present] or [
        block_on("given", "family", "dob")
    ]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given", "family"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    return _clusters_frame(
        linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    )


def historical_clusters(records: pl.DataFrame) -> pl.DataFrame:
    """Splink's clusters of historical people: the model of its historical_50k tutorial."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, SettingsCreator, block_on

    frame = records.select(
        "item",
        "given",
        "family",
        "city",
        "gender",
        "occupation",
        dob=pl.col("dob").str.strptime(pl.Date, "%Y%m%d", strict=False),
        postcode=pl.col("postcode_text").str.to_uppercase().str.strip_chars(),
    )
    rules = [
        block_on("substr(given,1,3)", "substr(family,1,4)"),
        block_on("family", "dob"),
        block_on("given", "dob"),
        block_on("postcode", "given"),
        block_on("postcode", "family"),
        block_on("dob", "city"),
        block_on("substr(postcode,1,3)", "dob"),
        block_on("substr(postcode,1,3)", "given"),
        block_on("substr(postcode,1,3)", "family"),
        block_on("substr(given,1,2)", "substr(family,1,2)", "year(dob)"),
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="item",
        blocking_rules_to_generate_predictions=rules,
        comparisons=[
            cl.NameComparison("given").configure(term_frequency_adjustments=True),
            cl.NameComparison("family").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.JaroWinklerAtThresholds("city", [0.9]).configure(term_frequency_adjustments=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
            cl.ExactMatch("gender"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db = DuckDBAPI()
    linker = _linker(db.register(frame.to_arrow(), table_name="records"), settings)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given", "family", "dob"),
            block_on("substr(given,1,2)", "family", "substr(postcode,1,2)"),
            block_on("dob", "postcode"),
        ],
        recall=0.6,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in (block_on("given", "family"), block_on("dob")):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    return _clusters_frame(
        linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    )


def transaction_clusters(records: pl.DataFrame, config: PipelineConfig) -> pl.DataFrame:
    """Splink's one-to-one links of two systems' payments: the model of its transactions tutorial."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, SettingsCreator, block_on

    frame = records.select(
        "item",
        "source",
        memo=pl.col("memo").str.to_lowercase(),
        memo_tokens=pl.col("memo").str.to_lowercase().str.extract_all(r"[a-z]+|[0-9]+").list.unique(),
        amount=pl.col("amount").cast(pl.Float64, strict=False),
        txn_date=pl.col("txn_date").cast(pl.Date),
    )

    def relative(share: float) -> dict:
        return {
            "sql_condition": f"abs(amount_l - amount_r) <= {share} * greatest(abs(amount_l), abs(amount_r))",
            "label_for_charts": f"within {share:.0%}",
        }

    amount = cl.CustomComparison(
        output_column_name="amount",
        comparison_levels=[
            cll.NullLevel("amount"),
            cll.ExactMatchLevel("amount"),
            cll.AbsoluteDifferenceLevel("amount", 0.02),
            relative(0.01),
            relative(0.03),
            relative(0.1),
            cll.ElseLevel(),
        ],
        comparison_description="Amount: exact, cents, relative difference",
    )
    settings = SettingsCreator(
        link_type=config.dedupe.link_type,
        unique_id_column_name="item",
        probability_two_random_records_match=1 / max(1, frame["source"].value_counts()["count"].max()),
        blocking_rules_to_generate_predictions=[
            block_on("amount"),
            block_on("txn_date"),
            block_on("round(amount, 0)", "yearweek(txn_date)"),
        ],
        comparisons=[
            amount,
            cl.AbsoluteDateDifferenceAtThresholds(
                "txn_date", input_is_string=False, metrics=["day", "day"], thresholds=[1, 3]
            ),
            cl.ArrayIntersectAtSizes("memo_tokens", [3, 2, 1]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db = DuckDBAPI()
    tables = [
        db.register(part.drop("source").to_arrow(), table_name=name)
        for (name,), part in frame.sort("item").group_by("source", maintain_order=True)
    ]
    linker = _linker(tables, settings)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("amount"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("txn_date"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    free = sorted({name for pair in config.dedupe.one_to_one for name in pair})
    if not free:
        return _clusters_frame(
            linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
        )
    started = time.perf_counter()
    clusters = linker.clustering.cluster_using_single_best_links(
        predictions, duplicate_free_datasets=free, threshold_match_probability=THRESHOLD
    )
    NOTES.append(
        f"Splink's one-to-one clustering (cluster_using_single_best_links) took {time.perf_counter() - started:.1f} s"
    )
    return _clusters_frame(clusters)


def splink_records(wh: Warehouse, config: PipelineConfig, model: str) -> pl.DataFrame:
    """The records our matcher reads (tasks.dedupe.customer_match_records), keyed by 'source:source_id'.

    transactions: item, source and the match columns as read from the raw rows; otherwise the canonical
    fields prepared as our matcher prepares them, the raw postcode (postcode_text) and the match columns.
    """
    records = customer_match_records(wh, config).with_columns(
        item=pl.col("record_source") + ":" + pl.col("record_id")
    )
    match_columns = [
        c for c in records.columns if c not in {"record_source", "record_id", "item", *MATCH_FIELDS}
    ]
    if model == "transactions":
        return records.select("item", pl.col("record_source").alias("source"), *match_columns)
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    prepared = prepare_records(numbered.select("node", *MATCH_FIELDS))
    return prepared.join(
        numbered.select("node", "item", *match_columns, postcode_text=pl.col("postcode").cast(pl.String)),
        on="node",
    )


def splink_side(model: str, wh: Warehouse, config: PipelineConfig) -> tuple[pl.DataFrame, float]:
    """Splink's clusters (item, cluster) and Splink's seconds; the inputs are read before the clock starts."""
    records = splink_records(wh, config, model)
    started = time.perf_counter()
    if model == "transactions":
        clusters = transaction_clusters(records, config)
    elif model == "historical":
        clusters = historical_clusters(records)
    else:
        clusters = person_clusters(records.drop("postcode_text"))
    return clusters, time.perf_counter() - started


def compare(evaluation: EvaluationSet, work: Path) -> dict:
    """Both matchers on one set: pairwise and cluster scores, seconds."""
    file_name = "".join(c if c.isalnum() else "_" for c in evaluation.name)
    config = load_config(evaluation.config).model_copy(update={"warehouse": work / f"{file_name}.duckdb"})
    ours = score_resolution(config, END, evaluation.truth_expression, evaluation.truth_file)
    with Warehouse.open(config, read_only=True) as wh:
        truth = (
            truth_from_expression(wh, config, evaluation.truth_expression)
            if evaluation.truth_expression
            else truth_from_file(evaluation.truth_file)
        )
        try:
            clusters, seconds = splink_side(evaluation.model, wh, config)
            theirs = pairwise_scores(clusters, truth) | cluster_scores(clusters, truth)
        except Exception as error:  # noqa: BLE001 - the comparison records Splink's failure instead of stopping
            theirs, seconds = {"error": f"{type(error).__name__}: {error}"}, float("nan")
    return {
        "dataset": evaluation.name,
        "records": int(ours.scores["items"]),
        "ours": ours.scores | ours.clusters,
        "ours_s": ours.resolve.wall_s,
        "splink": theirs,
        "splink_s": seconds,
    }


def evaluation_sets(work: Path, names: list[str] | None = None) -> list[EvaluationSet]:
    """Every evaluation set (or those named): shared ones by their configs, generated ones written into work."""
    linkage = REPO / "config" / "linkage"
    candidates: list[tuple[str, object]] = [
        (
            "fake_1000",
            lambda: EvaluationSet("fake_1000", linkage / "fake_1000.yaml", "cluster", None, "persons"),
        ),
        ("febrl3", lambda: EvaluationSet("FEBRL 3", linkage / "febrl3.yaml", FEBRL_TRUTH, None, "persons")),
        (
            "febrl4",
            lambda: EvaluationSet("FEBRL 4a + 4b", linkage / "febrl4.yaml", FEBRL_TRUTH, None, "persons"),
        ),
    ]
    candidates += [
        (f"generator-{d}", lambda d=d: generated_crm(work, d))
        for d in GENERATOR_DIFFICULTIES
        if d in DIFFICULTIES
    ]
    candidates += [(kind, lambda kind=kind: generated_set(work, kind)) for kind in SETS]
    unknown = set(names or ()) - {name for name, _ in candidates}
    if unknown:
        raise SystemExit(
            f"unknown sets {sorted(unknown)}; known: {', '.join(name for name, _ in candidates)}"
        )
    return [make() for name, make in candidates if names is None or name in names]


def generated_crm(work: Path, difficulty: str) -> EvaluationSet:
    """The sample generator's CRM (1,500 persons, seed 7) at one difficulty, with the demo config."""
    data = work / f"generated-{difficulty}"
    generate(data, customers=1500, seed=7, end=END, difficulty=difficulty)
    shutil.copyfile(REPO / "config" / "demo.yaml", data / "config.yaml")
    return EvaluationSet(
        f"generator {difficulty}", data / "config.yaml", None, data / "truth" / "records.csv", "persons"
    )


def generated_set(work: Path, kind: str) -> EvaluationSet:
    """A generated evaluation set (evaluation.datasets) at its default size and seed."""
    make_set(kind, work / kind)
    return EvaluationSet(kind, work / kind / "config.yaml", SETS[kind].truth, None, kind)


COLUMNS = ("P", "R", "F1", "cl P", "cl R", "B³ F1", "s")


def scores_cells(scores: dict, seconds: float) -> list[str]:
    """P, R, F1, cluster P, cluster R, B-cubed F1 and seconds as table cells (an error fills the first)."""
    if "error" in scores:
        return [" ".join(scores["error"].split())[:120].replace("|", "/"), *[""] * (len(COLUMNS) - 1)]
    keys = ("precision", "recall", "f1", "cluster_precision", "cluster_recall", "bcubed_f1")
    return [f"{scores[k]:.4f}" for k in keys] + [f"{seconds:.1f}"]


HEADER = ["dataset", "records", *(f"ours {c}" for c in COLUMNS), *(f"Splink {c}" for c in COLUMNS), "F1 Δ"]


def table_row(row: dict) -> str:
    """One line of the Markdown table."""
    ours, theirs = row["ours"], row["splink"]
    gap = f"{ours['f1'] - theirs['f1']:+.4f}" if "f1" in theirs else ""
    cells = [
        row["dataset"],
        f"{row['records']:,}",
        *scores_cells(ours, row["ours_s"]),
        *scores_cells(theirs, row["splink_s"]),
        gap,
    ]
    return "| " + " | ".join(cells) + " |"


def main(names: list[str] | None = None) -> None:
    """Run every evaluation set (or those named) through both matchers and print a Markdown table."""
    work = Path(tempfile.mkdtemp(prefix="splink-compare-"))
    try:
        sets = evaluation_sets(work, names)
        print("| " + " | ".join(HEADER) + " |")
        print("|" + "---|" * len(HEADER), flush=True)
        notes = []
        for evaluation in sets:
            NOTES.clear()
            print(table_row(compare(evaluation, work)), flush=True)
            notes += [f"- {evaluation.name}: {note}." for note in NOTES]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        "\nrecords: the records scored. ours s: the whole dedupe stage; Splink s: Splink alone on the prepared "
        "records (training, prediction, clustering). cl P / cl R: share of predicted / true clusters exactly "
        "right; B³ F1: B-cubed F1. F1 Δ: ours − Splink."
    )
    print("\n".join(notes))


if __name__ == "__main__":
    main(sys.argv[1:] or None)

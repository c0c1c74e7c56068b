"""Compare our matcher with a standard Splink model on the same records: pairwise P/R/F1 and time.

Run with the bench dependency group: `make bench-splink` (uv sync --frozen --group bench first).
For each dataset the ordinary config path runs first (extract, then dedupe with our matcher), and
Splink then gets the same customer records (core.customer_records, prepared by
tasks.dedupe.comparisons.prepare_records so both compare identically cleaned values) and a standard model:
DuckDB backend, prior from deterministic rules, u by random sampling, m by EM on two blocking
rules, prediction over wide blocking rules, clusters at the same threshold. Data never enters git.
"""

import logging
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


from evaluation.linkage import (  # noqa: E402
    pairwise_scores,  # noqa: E402
    score_resolution,
    truth_from_expression,
    truth_from_file,
)
from sampledata.generate import generate  # noqa: E402
from tasks.dedupe.comparisons import MATCH_FIELDS, prepare_records  # noqa: E402
from tasks.shared.config import load_config  # noqa: E402
from tasks.shared.warehouse import Warehouse  # noqa: E402

THRESHOLD = 0.9
END = date(2026, 11, 22)
FEBRL_TRUTH = "regexp_extract(rec_id, 'rec-([0-9]+)', 1)"


def splink_clusters(records: pl.DataFrame) -> tuple[pl.DataFrame, float]:
    """Splink's clusters (item, cluster) of prepared records, and the seconds it took."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
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
    table = db.register(frame.drop("node").to_arrow(), table_name="records")
    linker = Linker(table, settings, log_level=logging.WARNING)
    deterministic = [block_on(c) for c in ("email", "phone", "national_id") if c in present] or [
        block_on("given", "family", "dob")
    ]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given", "family"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
    result = pl.from_arrow(clusters.as_duckdbpyrelation().select("item, cluster_id").to_arrow_table())
    return result.select("item", cluster=pl.col("cluster_id").cast(pl.String)), time.perf_counter() - started


def prepared_records(wh: Warehouse) -> pl.DataFrame:
    """The customer records as our matcher prepares them, keyed by 'source:source_id'."""
    fields = ", ".join(MATCH_FIELDS)
    raw = wh.frame(
        f"select source || ':' || source_id as item, {fields} from core.customer_records order by source, source_id"
    )
    numbered = raw.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    prepared = prepare_records(numbered.drop("item"))
    return prepared.join(numbered.select("node", "item"), on="node")


def compare(
    name: str, config_path: Path, work: Path, truth_expression: str | None, truth_file: Path | None
) -> dict:
    """Both matchers on one dataset: scores and seconds."""
    config = load_config(config_path).model_copy(update={"warehouse": work / f"{name}.duckdb"})
    ours = score_resolution(config, END, truth_expression, truth_file)
    with Warehouse.open(config, read_only=True) as wh:
        records = prepared_records(wh)
        truth = (
            truth_from_expression(wh, config, truth_expression)
            if truth_expression
            else truth_from_file(truth_file)
        )
    try:
        clusters, seconds = splink_clusters(records)
        theirs = pairwise_scores(clusters, truth)
    except Exception as error:  # noqa: BLE001 - the comparison records Splink's failure instead of stopping
        theirs, seconds = {"error": f"{type(error).__name__}: {error}"}, float("nan")
    return {
        "dataset": name,
        "records": records.height,
        "ours": ours.scores,
        "ours_s": ours.resolve.wall_s,
        "splink": theirs,
        "splink_s": seconds,
    }


def main() -> None:
    """Run every dataset and print a Markdown table."""
    work = Path(tempfile.mkdtemp(prefix="splink-compare-"))
    linkage = REPO / "config" / "linkage"
    datasets = [
        ("fake_1000", linkage / "fake_1000.yaml", "cluster", None),
        ("febrl3", linkage / "febrl3.yaml", FEBRL_TRUTH, None),
        ("febrl4a+4b", linkage / "febrl4.yaml", FEBRL_TRUTH, None),
    ]
    for difficulty in ("default", "hard"):
        data = work / f"generated-{difficulty}"
        generate(data, customers=1500, seed=7, end=END, difficulty=difficulty)
        shutil.copyfile(REPO / "config" / "demo.yaml", data / "config.yaml")
        datasets.append(
            (f"generator {difficulty}", data / "config.yaml", None, data / "truth" / "records.csv")
        )
    print(
        "| dataset | records | ours P | ours R | ours F1 | ours s | Splink P | Splink R | Splink F1 | Splink s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, config_path, expression, truth_file in datasets:
        row = compare(name.replace(" ", "_").replace("+", "_"), config_path, work, expression, truth_file)
        ours, splink = row["ours"], row["splink"]
        if "error" in splink:
            theirs = f"{splink['error'][:120]} | | | "
        else:
            theirs = f"{splink['precision']:.4f} | {splink['recall']:.4f} | {splink['f1']:.4f} | {row['splink_s']:.1f}"
        print(
            f"| {name} | {row['records']:,} | {ours['precision']:.4f} | {ours['recall']:.4f} | {ours['f1']:.4f} "
            f"| {row['ours_s']:.1f} | {theirs} |"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Evidence for the lookalike audiences: how many hidden seed members each finds, on a generated sample.

Runs extract, dedupe, features, predict and segment on a sample folder (`python -m sampledata`), then
act.segment_memberships and tasks.act.lookalike.build_lookalikes for the configured lookalikes and any
extra seeds, and prints act.lookalike_evaluation as plain text: per top share, the customers evaluated
(customers: all of them up to tasks.act.lookalike.EVALUATION_CUSTOMERS, beyond it a seeded sample of that
many, whose shares estimate the population's), the share of the hidden seed members found (found), the
most a ranking could find there (best: the top x% may hold fewer customers than are hidden), a random
pick (random = x), the RFM rule (most money, then most purchases) and the lift over random.
A control seed of random customers should show a lift near 1.

Every generated segment is a rule over the same features the model sees, so a recall near 1 says the
model recovers the seed's definition, not that its lookalikes would convert like the seed.

    python -m evaluation.lookalike --config /tmp/lk20k/config.yaml --as-of 2026-12-02 \\
        --seed rules:churn_warning --seed cluster:1
"""

import argparse
import logging
import tempfile
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from tasks.act.lookalike import build_lookalikes, evaluate_lookalike, top_count
from tasks.dedupe import dedupe_all
from tasks.extract import extract_all
from tasks.features import features_day
from tasks.predict import predict_day
from tasks.segment import segment_day
from tasks.shared.config import LookalikeConfig, PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse

CONTROL_SHARE = 0.10  # the control seed: this share of the customers, drawn at random
CONTROL_STATE = 0


def extra_lookalikes(seeds: list[str]) -> list[LookalikeConfig]:
    """A lookalike per extra seed segment (scheme:segment), named seed_1, seed_2, ..."""
    return [
        LookalikeConfig(name=f"seed_{number}", label_en=seed, label_zh=seed, seed=seed)
        for number, seed in enumerate(seeds, start=1)
    ]


def stages_before_act(wh: Warehouse, config: PipelineConfig, as_of: date) -> None:
    """Extract, dedupe, features, predict and segment of as_of, then the act stage's segment memberships."""
    run_id = str(uuid.uuid4())
    extract_all(wh, config, run_id, None, logging.getLogger("evaluation"))
    dedupe_all(wh, config, as_of, run_id)
    features_day(wh, config, as_of)
    predict_day(wh, config, as_of, run_id)
    segment_day(wh, config, as_of, run_id)
    wh.build("act.segment_memberships", "act/segment_memberships")


def control_rows(wh: Warehouse, as_of: date) -> list[dict]:
    """The evaluation of a seed of random customers: what finding nothing looks like."""
    inputs = wh.frame(wh.model_sql("act/lookalike_inputs"), {"as_of": as_of})  # ordered by customer_id
    rng = np.random.default_rng(CONTROL_STATE)
    seed = pl.Series(rng.random(inputs.height) < CONTROL_SHARE)
    return [{"lookalike": "control", **row} for row in evaluate_lookalike(inputs, seed)]


def best_share(customers: int, seed_size: int, hidden: int, top_share: float) -> float:
    """The most a ranking can find: the top x% of the customers outside the training seed, over the hidden.

    customers, seed_size and hidden are the evaluation's own (a sample of the customers beyond
    tasks.act.lookalike.EVALUATION_CUSTOMERS).
    """
    return min(1.0, top_count(top_share, customers - (seed_size - hidden)) / hidden)


COLUMNS = (
    "lookalike",
    "seed",
    "customers",
    "seed_size",
    "hidden",
    "top_share",
    "found_share",
    "best_share",
    "random_share",
    "rule_share",
    "lift",
)


def figures(wh: Warehouse, lookalikes: list[LookalikeConfig], as_of: date) -> tuple[list[dict], pl.DataFrame]:
    """Build the lookalikes (summaries) and their evaluation with the control seed's, one row per top share."""
    summaries = build_lookalikes(wh, lookalikes, as_of)
    seeds = {lookalike.name: lookalike.seed for lookalike in lookalikes} | {"control": "random 10%"}
    rows = wh.dicts("select * from act.lookalike_evaluation") + control_rows(wh, as_of)
    for row in rows:
        row["seed"] = seeds[row["lookalike"]]
        row["best_share"] = best_share(row["customers"], row["seed_size"], row["hidden"], row["top_share"])
    return summaries, pl.DataFrame([{column: row[column] for column in COLUMNS} for row in rows])


def render(summaries: list[dict], table: pl.DataFrame) -> str:
    """The summaries and the evaluation table as plain text."""
    lines = [
        f"{s['name']} ({s['seed']}): seed {s['seed_size']}, audience {s['audience']}"
        + (f", not built: {s['reason']}" if s["reason"] else "")
        for s in summaries
    ]
    with pl.Config(
        tbl_rows=200, tbl_cols=20, float_precision=3, tbl_width_chars=200, tbl_hide_dataframe_shape=True
    ):
        return "\n".join(lines) + "\n\n" + str(table)


def evaluate_sample(config_path: Path, as_of: date, seeds: list[str] | None = None) -> str:
    """Run a generated sample through segment in a new temporary warehouse; the lookalikes' figures as text."""
    config = load_config(config_path)
    lookalikes = [*config.act.lookalikes, *extra_lookalikes(seeds or [])]
    with tempfile.TemporaryDirectory(prefix="lookalike-") as scratch:
        config = config.model_copy(update={"warehouse": Path(scratch) / "warehouse.duckdb"})
        with Warehouse.open(config) as wh:
            stages_before_act(wh, config, as_of)
            customers = wh.count("features.customer_features")
            summaries, table = figures(wh, lookalikes, as_of)
    return f"Lookalikes of {config_path} as of {as_of} ({customers} customers)\n" + render(summaries, table)


def main() -> None:
    """`python -m evaluation.lookalike --config ... --as-of ... [--seed scheme:segment ...]`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="The sample's config.yaml.")
    parser.add_argument("--as-of", type=date.fromisoformat, required=True, help="Day to run (YYYY-MM-DD).")
    parser.add_argument("--seed", action="append", default=[], help="An extra seed segment, scheme:segment.")
    arguments = parser.parse_args()
    print(evaluate_sample(arguments.config, arguments.as_of, arguments.seed))


if __name__ == "__main__":
    main()

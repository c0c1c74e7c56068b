"""The fitted matcher model: stored and read back, it scores as the fit did, also records prepared later."""

import random

import numpy as np
import polars as pl

from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, build_comparisons
from tasks.dedupe.levels import code_records, comparison_levels
from tasks.dedupe.model import load_model, settings_hash, store_model
from tasks.dedupe.preparation import prepare_records
from tasks.dedupe.scoring import MatchSettings, match_records, score_pairs
from tasks.shared.config import ComparisonConfig
from tasks.shared.warehouse import Warehouse

FAMILIES = ["Lee", "Chan", "Wong", "Smith", "Brown", "Garcia", "王", "李", "张"]
GIVEN = ["Ann", "Bo", "Carl", "Dee", "Eve", "Finn", "伟", "娜", "敏"]
MEMOS = ["steam games", "netflix monthly", "grocery store", "coffee shop", "book store", "rent"]


def people(count: int, seed: int) -> pl.DataFrame:
    """Records of about count / 2 people, each once or twice (a typo now and then), with match columns:
    a memo (text) and an amount written with decimal commas (text, numeric)."""
    rng = random.Random(seed)
    rows = []
    while len(rows) < count:
        person = {
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILIES),
            "birth_date": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}",
            "city": rng.choice(["Leeds", "York", "上海", "北京"]),
            "memo": rng.choice(MEMOS) + f" {rng.randrange(100)}",
            "amount": f"{rng.randrange(1, 99)},{rng.randrange(10, 99)}",
        }
        for _ in range(rng.choice([1, 2, 2])):
            row = dict(person)
            if rng.random() < 0.3:
                row["given_name"] = row["given_name"] + "e"
            rows.append(row)
    frame = pl.DataFrame(rows[:count]).with_columns(pl.col("birth_date").str.to_date())
    return frame.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))


def test_a_stored_model_scores_as_the_fit_and_records_prepared_alone_score_the_same() -> None:
    comparisons = (
        *DEFAULT_COMPARISONS,
        *build_comparisons(
            [
                ComparisonConfig(name="memo", kind="text"),
                ComparisonConfig(name="amount", kind="numeric", term_frequency=True),
            ]
        ),
    )
    settings = MatchSettings(comparisons=comparisons, max_block_size=12, threshold=0.5)
    records = people(400, seed=3)
    fit = match_records(records, settings=settings)
    assert fit.model is not None and fit.links.height > 0
    assert fit.model.decimals == {"amount": ","}
    wh = Warehouse(":memory:")
    hashed = settings_hash(comparisons, None, 12, settings.max_candidate_pairs, settings.link_type, 0.5, True)
    store_model(wh, fit.model.__class__(**{**fit.model.__dict__, "settings_hash": hashed}))
    model = load_model(wh, comparisons)
    assert model.rules == fit.model.rules and model.prior == fit.model.prior
    for name in fit.model.parameters.m:
        assert np.array_equal(model.parameters.m[name], fit.model.parameters.m[name])
        assert np.array_equal(model.parameters.u[name], fit.model.parameters.u[name])
    # every candidate pair of a full run with the stored model scores exactly as the fit scored it
    again = match_records(records, settings=settings, model=model)
    assert again.links.equals(fit.links)
    # a handful of linked records prepared, coded and scored on their own (as an incremental run does)
    pairs = fit.links.select("left", "right").head(20)
    nodes = pl.concat([pairs["left"], pairs["right"]]).unique()
    alone = prepare_records(
        records.filter(pl.col("node").is_in(nodes.implode())), comparisons, model.decimals
    )
    coded = code_records(alone, comparisons, model.token_records)
    levels = comparison_levels(alone, pairs, coded, comparisons)
    args = (alone, pairs, levels, model.parameters, model.frequencies, model.prior)
    scored = score_pairs(*args, evidence=True, conflict=settings.conflict)
    assert scored.equals(fit.links.head(20).select(scored.columns))
    # a 20-record slice read alone would choose a point as its decimal separator: the model keeps the comma
    assert prepare_records(records.head(3), comparisons, model.decimals)["c_amount"].null_count() == 0

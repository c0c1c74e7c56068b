"""Stored act models: a served day is a function of the stored models and the day's inputs, refits when due.

The world (tests/unit/act/act_world.py) is 400 customers with one lookalike (of tier:high), two audiences
and recommendations; each test runs the whole act stage (act_all) over a few days.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

import tasks.act.lookalike
import tasks.act.recommend
from tasks.act import act_all
from tasks.act.lookalike import SCORE_SCHEMA, audience, evaluate_lookalike, score_lookalike
from tasks.act.recommend import build_interactions, build_recommendations, evaluate_recommendations
from tasks.act.store import StoredModel, library_versions, refit_reason
from tasks.act.summary import render_markdown
from tasks.shared.warehouse import Warehouse
from tests.unit.act.act_world import build_world, customer, outputs, pipeline

FIT_DAY = date(2026, 3, 1)
STORE = ("act.models", "act.lookalike_folds", "act.item_similarity_model")
EVENT_READERS = ("act/interaction_summary", "act/interaction_summary_kept")


def day(n: int) -> date:
    return FIT_DAY + timedelta(days=n)


def run(wh: Warehouse, config, as_of: date, **kwargs) -> dict:
    """The world of as_of, then the act stage of as_of."""
    build_world(wh, as_of)
    return act_all(wh, config, as_of, **kwargs)


def refits(summary: dict) -> tuple[str | None, str | None]:
    """Why the lookalike and the recommender refitted (None: served by the stored model)."""
    return summary["lookalikes"][0]["refit"], summary["recommendations"]["refit"]


def fit_days(wh: Warehouse) -> dict[str, date]:
    return dict(wh.rows("select model, fit_day from act.models"))


def stored(wh: Warehouse) -> dict[str, pl.DataFrame]:
    return {table: wh.frame(f"select * from {table}") for table in STORE}


def test_a_served_day_equals_the_same_day_recomputed_from_rebuilt_inputs_with_the_same_models(
    tmp_path,
) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as daily:
        assert refits(run(daily, config, FIT_DAY)) == ("no stored model", "no stored model")
        models = stored(daily)
        for n in (1, 3, 4):  # served days, each on the inputs of its day
            assert refits(run(daily, config, day(n))) == (None, None)
        served = outputs(daily)
        assert stored(daily)["act.models"].equals(models["act.models"])  # serving changed no model
    with Warehouse(":memory:") as rebuilt:
        build_world(rebuilt, day(4))
        rebuilt.ensure("act/model_store")
        for table, frame in models.items():
            rebuilt.write_frame(table, frame)
        summary = act_all(rebuilt, config, day(4))
        assert refits(summary) == (None, None)
        assert outputs(rebuilt) == served
        # the inputs moved since the fit day: the lookalike's audience and the lists are today's, not the fit day's
        assert summary["lookalikes"][0]["evaluated_on"] == FIT_DAY
        refitted = act_all(rebuilt, config, day(4), refit=True)
        assert refits(refitted) == ("a refit was asked for", "a refit was asked for")
        assert outputs(rebuilt)["act.lookalike_evaluation"] != served["act.lookalike_evaluation"]


def test_a_served_day_of_the_fit_day_reproduces_the_fit_exactly(tmp_path) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as wh:
        run(wh, config, FIT_DAY)
        fitted = outputs(wh)
        assert refits(act_all(wh, config, FIT_DAY)) == (None, None)
        assert outputs(wh) == fitted


def test_a_refit_day_computes_what_the_code_without_a_store_computes(tmp_path) -> None:
    """Lookalike scores, audience and evaluation from the pure functions; lists and evaluation from their
    own reads of the interactions (act/interaction_summary as of the day; and as of the evaluation's fit day,
    which the day's one read also weighs)."""
    config = pipeline(tmp_path)
    settings = config.act.recommendations
    with Warehouse(":memory:") as wh:
        summary = run(wh, config, day(10))
        assert refits(summary) == ("no stored model", "no stored model")
        result = outputs(wh)

        inputs = wh.frame(wh.model_sql("act/lookalike_inputs"), {"as_of": day(10)})
        seed = inputs["customer_id"].is_in(
            wh.frame("select customer_id from act.segment_memberships where segment = 'high'")[
                "customer_id"
            ].implode()
        )
        scored = score_lookalike(inputs, seed)
        scored = scored.with_columns(audience(scored, 0.10), lookalike=pl.lit("hv")).select(
            list(SCORE_SCHEMA)
        )
        assert (
            wh.rows("select * from act.lookalike_scores order by customer_id")
            == scored.sort("customer_id").rows()
        )
        evaluation = [
            {"lookalike": "hv", **row, "evaluated_on": day(10)} for row in evaluate_lookalike(inputs, seed)
        ]
        assert wh.dicts("select * from act.lookalike_evaluation order by top_share") == evaluation

        # the lists: the same when built from a read of act/interaction_summary with the similarity fitted from it
        build_recommendations(wh, settings, ["session"], day(10))
        assert outputs(wh)["act.recommendations"] == result["act.recommendations"]
        # the evaluation's fit: the fit_ columns of the day's read, as act/interaction_summary as of its fit day
        # read to the end of that day has it
        since = day(10) - timedelta(days=settings.evaluation_days)
        build_interactions(wh, settings, ["session"], "old_fit", since)
        build_interactions(wh, settings, ["session"], "read_to_the_day", day(10), fit_day=since)
        wh.build(
            "new_fit",
            "act/recommend_fit_interactions",
            {"since": since},
            identifiers={"interactions": "read_to_the_day"},
        )
        assert wh.rows("select * from new_fit order by 1, 2") == wh.rows(
            "select * exclude (fit_affinity, fit_plays, fit_purchases, fit_last_date) from old_fit "
            "where first_date <= ? order by 1, 2",
            [since],
        )
        # and the evaluation reads the same from its own read of the events
        rows = evaluate_recommendations(wh, settings, ["session"], day(10))
        assert [{**row, "evaluated_on": day(10)} for row in rows] == summary["recommendations"]["evaluation"]


def test_the_events_are_read_once_on_a_served_day(tmp_path, monkeypatch) -> None:
    config = pipeline(tmp_path)
    built: list[str] = []
    build = Warehouse.build

    def recording(self, table, model, *args, **kwargs):
        built.append(model)
        return build(self, table, model, *args, **kwargs)

    monkeypatch.setattr(Warehouse, "build", recording)
    with Warehouse(":memory:") as wh:
        run(
            wh, config, FIT_DAY
        )  # a fit day: one read for the lists and the similarity, and the evaluation's fit and truth
        assert [model for model in built if model in EVENT_READERS] == ["act/interaction_summary"]
        built.clear()
        run(wh, config, day(1))  # a served day: the lists
        assert [model for model in built if model in EVENT_READERS] == ["act/interaction_summary"]


def test_evaluations_run_on_fit_days_only_and_served_days_say_which(tmp_path, monkeypatch) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as wh:
        fitted = run(wh, config, FIT_DAY)
        evaluations = {
            table: outputs(wh)[table]
            for table in ("act.lookalike_evaluation", "act.recommendation_evaluation")
        }

        def refuse(*args, **kwargs):
            raise AssertionError("an evaluation ran on a served day")

        monkeypatch.setattr(tasks.act.lookalike, "evaluate_lookalike", refuse)
        monkeypatch.setattr(tasks.act.recommend, "evaluate_recommendations", refuse)
        served = run(wh, config, day(6))
        assert refits(served) == (None, None)
        assert {table: outputs(wh)[table] for table in evaluations} == evaluations
        assert wh.rows("select distinct evaluated_on from act.lookalike_evaluation") == [(FIT_DAY,)]
        assert wh.rows("select distinct evaluated_on from act.recommendation_evaluation") == [(FIT_DAY,)]
        lookalike = served["lookalikes"][0]
        assert lookalike["evaluated_on"] == FIT_DAY
        assert {k: lookalike[k] for k in ("found_share", "lift")} == {
            k: fitted["lookalikes"][0][k] for k in ("found_share", "lift")
        }
        assert served["recommendations"]["evaluation"] == fitted["recommendations"]["evaluation"]
        text = render_markdown({"enabled": True, **served}, day(6))
        assert f"{FIT_DAY} (stored model)" in text
        with pytest.raises(AssertionError, match="an evaluation ran"):
            run(wh, config, day(7))  # refit_every_days (7) since the fit day: a fit day, evaluated


@pytest.mark.parametrize(
    ("days", "every", "expected"),
    [
        (6, 7, (None, None)),
        (7, 7, ("the stored model is 7 days old (refit every 7)",) * 2),
        (2, 2, ("the stored model is 2 days old (refit every 2)",) * 2),
        (-3, 7, (f"the stored model was fitted on a later day ({FIT_DAY})",) * 2),
    ],
)
def test_refit_after_refit_every_days_and_before_the_fit_day(tmp_path, days, every, expected) -> None:
    config = pipeline(tmp_path, refit_every_days=every)
    with Warehouse(":memory:") as wh:
        run(wh, config, FIT_DAY)
        assert refits(run(wh, config, day(days))) == expected
        refitted = expected != (None, None)
        # a refit after the fit day is stored; one before it (a backfill) serves its day only
        assert set(fit_days(wh).values()) == {day(days) if refitted and days > 0 else FIT_DAY}
        assert wh.rows("select distinct evaluated_on from act.lookalike_evaluation") == [
            (day(days) if refitted else FIT_DAY,)
        ]


def test_a_backfill_before_the_fit_day_refits_for_its_day_and_keeps_the_later_model(tmp_path) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as wh:
        run(wh, config, day(10))
        stored = wh.rows("select * from act.models order by all")
        assert refits(run(wh, config, day(2)))[0] == f"the stored model was fitted on a later day ({day(10)})"
        backfilled = outputs(wh)
        # the backfilled day equals a first run of that day
        with Warehouse(":memory:") as fresh:
            run(fresh, config, day(2))
            assert outputs(fresh) == backfilled
        # the later days keep the model they were scored with: a backfill does not change them
        assert fit_days(wh) == {"lookalike:hv": day(10), "recommendations": day(10)}
        assert wh.rows("select * from act.models order by all") == stored
        assert refits(run(wh, config, day(3)))[0] == f"the stored model was fitted on a later day ({day(10)})"
        assert refits(run(wh, config, day(11))) == (None, None)
        assert refits(run(wh, config, day(17)))[0] == "the stored model is 7 days old (refit every 7)"


def test_a_settings_change_refits_only_the_model_it_touches(tmp_path) -> None:
    with Warehouse(":memory:") as wh:
        run(wh, pipeline(tmp_path), FIT_DAY)
        seed = {"lookalikes": [{"name": "hv", "label_en": "HV", "label_zh": "高", "seed": "rules:card_fans"}]}
        assert refits(run(wh, pipeline(tmp_path, **seed), day(1))) == (
            "the settings changed since the fit",
            None,
        )
        # the audience share picks from the scores: no refit
        share = {"lookalikes": [{**seed["lookalikes"][0], "audience_share": 0.2}]}
        assert refits(run(wh, pipeline(tmp_path, **share), day(2))) == (None, None)
        top = {**share, "recommendations": {"evaluation_days": 14, "top_k": 2}}
        assert refits(run(wh, pipeline(tmp_path, **top), day(3))) == (
            None,
            "the settings changed since the fit",
        )
        assert fit_days(wh) == {"lookalike:hv": day(1), "recommendations": day(3)}
        assert wh.scalar("select max(rank) from act.recommendations") == 2


def test_a_refit_request_refits_both(tmp_path) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as wh:
        run(wh, config, FIT_DAY)
        assert refits(run(wh, config, day(1), refit=True)) == ("a refit was asked for",) * 2
        assert fit_days(wh) == {"lookalike:hv": day(1), "recommendations": day(1)}


def test_a_model_of_other_libraries_or_an_unreadable_one_is_refitted(tmp_path) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as wh:
        run(wh, config, FIT_DAY)
        wh.execute("update act.models set versions = '{}' where model = 'recommendations'")
        wh.execute("update act.models set payload = 'not a pickle'::blob where model = 'lookalike:hv'")
        assert refits(run(wh, config, day(1))) == (
            "the stored model could not be read",
            "the library versions changed since the fit",
        )
        assert refits(run(wh, config, day(2))) == (None, None)


def test_switched_off_the_stage_forgets_its_models_and_a_removed_lookalike_is_forgotten(tmp_path) -> None:
    with Warehouse(":memory:") as wh:
        run(wh, pipeline(tmp_path), FIT_DAY)
        assert wh.count("act.lookalike_folds") == 400
        assert run(wh, pipeline(tmp_path, enabled=False), day(1)) == {"enabled": False}
        assert {table: wh.count(table) for table in STORE} == dict.fromkeys(STORE, 0)
        assert refits(run(wh, pipeline(tmp_path), day(2))) == ("no stored model",) * 2
        run(wh, pipeline(tmp_path, lookalikes=[], audiences=[]), day(3))
        assert fit_days(wh) == {"recommendations": day(2)}
        assert wh.count("act.lookalike_folds") == 0


def test_a_customer_new_since_the_fit_day_is_scored_by_a_stored_classifier(tmp_path) -> None:
    config = pipeline(tmp_path)
    with Warehouse(":memory:") as wh:
        run(wh, config, FIT_DAY)
        build_world(wh, day(1))
        # a newcomer like a big spender, and a customer gone
        wh.execute(
            "insert into features.customer_features select * replace ('N0001' as customer_id) "
            "from features.customer_features where customer_id = ?",
            [customer(1)],
        )
        wh.execute("delete from features.customer_features where customer_id = ?", [customer(2)])
        assert refits(act_all(wh, config, day(1))) == (None, None)
        scores = dict(wh.rows("select customer_id, score from act.lookalike_scores"))
        assert customer(2) not in scores
        assert scores["N0001"] is not None and 0 <= scores["N0001"] <= 1
        assert wh.count("act.lookalike_scores") == 400


def test_refit_reason() -> None:
    model = StoredModel("m", FIT_DAY, "h", library_versions(), None)
    assert refit_reason(model, "h", day(3), 7, False) is None
    assert refit_reason(model, "h", FIT_DAY, 7, False) is None
    assert refit_reason(model, "h", day(3), 7, True) == "a refit was asked for"
    assert refit_reason(None, "h", day(3), 7, False) == "no stored model"
    assert refit_reason(model, "other", day(3), 7, False) == "the settings changed since the fit"
    assert (
        refit_reason(model, "h", day(-1), 7, False)
        == f"the stored model was fitted on a later day ({FIT_DAY})"
    )
    assert refit_reason(model, "h", day(7), 7, False) == "the stored model is 7 days old (refit every 7)"

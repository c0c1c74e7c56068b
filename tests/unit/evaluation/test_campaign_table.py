"""The campaign evaluation's table: an estimate without an interval is told apart from one that misses."""

import polars as pl

from evaluation.campaign import campaign_table

TRUTH = pl.DataFrame(
    {
        "audience": ["churn_rescue", "win_back"],
        "conversion_effect": [0.15, 0.20],
        "revenue_effect": [10.0, 14.0],
    }
)


def outcome(audience: str, metric: str, difference: float, low: float | None, high: float | None) -> dict:
    holdout = 6 if low is None else 40
    return {
        "audience": audience,
        "metric": metric,
        "treated": 400,
        "holdout": holdout,
        "difference": difference,
        "ci_low": low,
        "ci_high": high,
    }


def test_covers_misses_none_and_no_outcome_are_counted_apart() -> None:
    outcomes = pl.DataFrame(
        [
            outcome("churn_rescue", "conversion", 0.14, 0.03, 0.25),  # covers 0.15
            outcome("churn_rescue", "revenue_per_member", 30.0, 20.0, 40.0),  # misses 10.0
            outcome("win_back", "conversion", 0.22, None, None),  # a side too small: no interval
        ]
    )
    table, counts = campaign_table({"truth": TRUTH, "outcomes": outcomes})
    assert counts == {"covers": 1, "misses": 1, "none": 1, "no_outcome": 1}
    lines = table.splitlines()
    assert lines[0].endswith("95% interval [0.0300, 0.2500]  covers")
    assert lines[1].endswith("95% interval [20.0000, 40.0000]  MISSES")
    assert lines[2].endswith("95% interval none (a side has fewer entries than act.outcome_min_group)")
    assert "holdout     6" in lines[2]
    assert lines[3] == f"{'win_back':<22} {'revenue_per_member':<20} no outcome"

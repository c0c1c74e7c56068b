"""sql/act/lookalike_inputs.sql on three customers written by hand: a payer, a refunder, one never active."""

import math
from datetime import date, timedelta
from decimal import Decimal

from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

AS_OF = date(2026, 3, 31)
FEATURES = (
    "customer_id varchar, recency_days bigint, frequency bigint, monetary decimal(38,2), "
    "payments_30d bigint, payments_90d bigint, payments_180d bigint, sessions_30d bigint, sessions_90d bigint, "
    "sessions_180d bigint, sessions_total bigint, session_minutes_90d double, engagements_total bigint, "
    "avg_feedback_score double, feedback_count bigint, last_active_date date, first_seen_date date"
)


def test_counts_and_money_are_log1p_days_count_from_as_of_and_nulls_stay_null() -> None:
    day = {n: AS_OF - timedelta(days=n) for n in (0, 3, 40, 100, 365)}
    with Warehouse(":memory:") as wh:
        create(
            wh,
            "features.customer_features",
            FEATURES,
            [
                ("C1", 3, 4, Decimal("520.00"), 1, 2, 3, 5, 9, 12, 30, 45.5, 7, 4.5, 2, day[0], day[365]),
                ("C2", 40, 1, Decimal("-0.50"), 0, 1, 1, 0, 0, 0, 0, 0.0, 0, None, 0, day[40], day[100]),
                ("C3", None, None, None, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, None, 0, None, day[3]),
            ],
        )
        rows = {row["customer_id"]: row for row in wh.select("act/lookalike_inputs", {"as_of": AS_OF})}

    log = math.log1p
    assert list(rows["C1"]) == [
        "customer_id",
        "payer",
        "recency_days",
        "log_frequency",
        "log_monetary",
        "log_payments_30d",
        "log_payments_90d",
        "log_payments_180d",
        "log_sessions_30d",
        "log_sessions_90d",
        "log_sessions_180d",
        "log_sessions_total",
        "log_session_minutes_90d",
        "log_engagements_total",
        "avg_feedback_score",
        "log_feedback_count",
        "inactive_days",
        "tenure_days",
    ]
    expected_c1 = [1.0, 3.0, log(4), log(520), log(1), log(2), log(3), log(5), log(9), log(12), log(30)]
    expected_c1 += [log(45.5), log(7), 4.5, log(2), 0.0, 365.0]
    got_c1 = list(rows["C1"].values())[1:]
    assert all(math.isclose(got, want, rel_tol=1e-12) for got, want in zip(got_c1, expected_c1, strict=True))
    # refunds beyond purchases count as no money; no feedback stays null
    assert rows["C2"]["payer"] == 1.0
    assert rows["C2"]["log_monetary"] == 0.0
    assert rows["C2"]["avg_feedback_score"] is None
    assert rows["C2"]["inactive_days"] == 40.0
    # never bought, never active: payer 0, the purchase and activity columns null, tenure known
    assert {k: v for k, v in rows["C3"].items() if v is None} == {
        "recency_days": None,
        "log_frequency": None,
        "log_monetary": None,
        "avg_feedback_score": None,
        "inactive_days": None,
    }
    assert rows["C3"]["payer"] == 0.0
    assert rows["C3"]["log_sessions_total"] == 0.0
    assert rows["C3"]["tenure_days"] == 3.0


def test_rows_come_ordered_by_customer_id() -> None:
    # the model's seeded samples and folds follow row order: it must not depend on how the table was written
    row = (None, None, None, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, None, 0, None, AS_OF)
    with Warehouse(":memory:") as wh:
        create(
            wh, "features.customer_features", FEATURES, [(name, *row) for name in ("C3", "C10", "C1", "C2")]
        )
        ids = [row["customer_id"] for row in wh.select("act/lookalike_inputs", {"as_of": AS_OF})]
    assert ids == ["C1", "C10", "C2", "C3"]

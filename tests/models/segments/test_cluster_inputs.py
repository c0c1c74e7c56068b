"""Model tests of segments/cluster_inputs: the clustering features of every customer, in customer order."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tasks.segment.clusters import FEATURES, INACTIVE_CAP
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

AS_OF = date(2026, 3, 31)


def test_cluster_inputs_days_inactive_fall_back_to_first_seen_and_are_capped(wh: Warehouse) -> None:
    create(
        wh,
        "features.customer_features",
        "customer_id varchar, last_active_date date, first_seen_date date, frequency bigint, "
        "monetary decimal(18,2), payments_90d bigint, sessions_90d bigint, session_minutes_90d double",
        [
            ("C3", None, None, None, None, 0, 0, 0.0),  # nothing known: the cap
            ("C1", AS_OF - timedelta(days=4), AS_OF - timedelta(days=400), 2, Decimal("9.50"), 1, 3, 12.5),
            ("C2", None, AS_OF - timedelta(days=20), None, None, 0, 0, 0.0),  # since first seen
            ("C4", AS_OF - timedelta(days=5000), AS_OF - timedelta(days=6000), 1, Decimal("1.00"), 0, 0, 0.0),
        ],
    )
    sql = wh.model_sql("segments/cluster_inputs", fragments={"shard": "true"})
    rows = wh.rows(sql, {"as_of": AS_OF, "inactive_cap": INACTIVE_CAP})
    assert [d[0] for d in wh.con.sql(sql, params={"as_of": AS_OF, "inactive_cap": 1}).description] == [
        "customer_id",
        *FEATURES,
    ]
    assert rows == [
        ("C1", 4, 2, Decimal("9.50"), 1, 3, 12.5),
        ("C2", 20, None, None, 0, 0, 0.0),
        ("C3", 3650, None, None, 0, 0, 0.0),
        ("C4", 3650, 1, Decimal("1.00"), 0, 0, 0.0),
    ]

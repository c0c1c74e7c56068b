"""Model tests of what a publish reads back: the report's queries, destination rows, every published table evolving."""

from __future__ import annotations

from datetime import date, timedelta

from tasks.publish import publish_tables
from tasks.publish.destinations import destination_frame
from tasks.publish.exports import change_counts
from tasks.publish.report import report_data
from tasks.publish.risk_charts import risk_data
from tasks.shared.config import DestinationConfig
from tasks.shared.contracts import sha256_hex
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments, columns_of, create

SCHEMES = ("cluster", "lifecycle", "rfm", "rfm_cn", "rules", "tier")


def published_day(wh: Warehouse) -> None:
    """C1 (Champions, consents), C2 (Lost), C3 (not a buyer, two rule segments) published, with golden records."""
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    create(
        wh,
        "core.customers",
        "customer_id varchar, email varchar, phone varchar, full_name varchar, gender varchar, "
        "birth_date date, device_id varchar, address varchar, city varchar, province varchar, postcode varchar, "
        "country varchar",
        [
            (
                "C1",
                "c1@example.com",
                "+8613800138001",
                "张伟",
                "M",
                *[None] * 3,
                "上海",
                "上海",
                "200000",
                "China",
            ),
            ("C2", "c2@example.com", *[None] * 10),
            ("C3", None, "+8613800138003", *[None] * 4, "文三路 1 号", "杭州", "浙江", None, "China"),
        ],
    )
    create(
        wh,
        "audit.suppression",
        "kind varchar, value_sha256 varchar, origin varchar, added_at timestamptz",
        [],
    )


def test_report_data_reads_every_scheme_grid_clusters_and_changes(wh: Warehouse) -> None:
    published_day(wh)
    data = report_data(wh, SEGMENTS_AS_OF, {"run_id": "run-1", "config_hash": "hash-a"}, language="en")
    assert (data["language"], data["customers"], data["purchasers"]) == ("en", 3, 2)
    day = SEGMENTS_AS_OF
    # as_of, scheme, segment, label_zh, label_en, no_purchase, customers
    assert data["segments"] == [
        (day, "cluster", "0", "大", "big", False, 1),
        (day, "cluster", "1", "小", "small", False, 1),
        (day, "cluster", "2", "免费", "free", False, 1),
        (day, "lifecycle", "active", "活跃", "active", False, 1),
        (day, "lifecycle", "churned", "流失", "churned", False, 1),
        (day, "lifecycle", "never_purchased", "未付费", "never_purchased", True, 1),
        (day, "rfm", "Champions", "冠军客户", "Champions", False, 1),
        (day, "rfm", "Lost", "已流失客户", "Lost", False, 1),
        (day, "rfm", "No Purchase", "未购买客户", "No Purchase", True, 1),
        (day, "rfm_cn", "一般挽留客户", "一般挽留客户", "General Win-back", False, 1),
        (day, "rfm_cn", "未购买客户", "未购买客户", "No Purchase", True, 1),
        (day, "rfm_cn", "重要价值客户", "重要价值客户", "Important Value", False, 1),
        (day, "rules", "high_frequency_players", "高频玩家", "high_frequency_players", False, 2),
        (day, "rules", "high_intent_not_paying", "高意向未付费", "high_intent_not_paying", False, 1),
        (day, "tier", "high", "高价值", "high", False, 1),
        (day, "tier", "low", "低价值", "low", False, 1),
        (day, "tier", "none", "未消费", "none", True, 1),
    ]
    assert data["heatmap"] == [(1, 1, 1), (5, 5, 1)]
    assert data["clusters"] == [
        (0, "大", "big", 1, 3.0, 4.0, 520.0, 9.0, 1),
        (1, "小", "small", 1, 40.0, 1.0, -0.5, 0.0, 1),
        (2, "免费", "free", 1, None, 0.0, 0.0, 2.0, 0),  # no purchase: 0 orders and spend, no recency
    ]
    # the first published day: everyone entered every scheme they are in
    assert data["changes"] == [(scheme, "entered", 3) for scheme in SCHEMES]
    assert change_counts(wh, SEGMENTS_AS_OF) == {scheme: {"entered": 3, "exited": 0} for scheme in SCHEMES}
    assert data["segment_changes"][:3] == [
        ("cluster", "0", "entered", 1, None),
        ("cluster", "1", "entered", 1, None),
        ("cluster", "2", "entered", 1, None),
    ]
    assert ("rules", "high_frequency_players", "entered", 2, None) in data["segment_changes"]
    assert data["act"] == {}


def test_report_sizes_cover_every_published_day_up_to_as_of_and_risk_tiers_when_scored(wh: Warehouse) -> None:
    day2 = SEGMENTS_AS_OF + timedelta(days=1)
    for day, run in ((SEGMENTS_AS_OF, "run-1"), (day2, "run-2")):
        build_segments(wh, day)
        publish_tables(wh, day, run, "hash-a")
    wh.execute(
        "update published.customer_segments set rfm_segment = 'Lost', rfm_segment_zh = '已流失客户', "
        "risk_tier = 'high', risk_tier_zh = '高' where as_of = ? and customer_id = 'C1'",
        [day2],
    )
    rfm = [row for row in report_data(wh, SEGMENTS_AS_OF, {})["segments"] if row[1] in ("rfm", "risk")]
    assert [row[0] for row in rfm] == [SEGMENTS_AS_OF] * 3  # nothing after the as_of
    rows = [row for row in report_data(wh, day2, {})["segments"] if row[1] in ("rfm", "risk")]
    assert rows[3:] == [
        (day2, "rfm", "Lost", "已流失客户", "Lost", False, 2),
        (day2, "rfm", "No Purchase", "未购买客户", "No Purchase", True, 1),
        (day2, "risk", "high", "高", "high", False, 1),
    ]
    # changes are published with the day (before the update above): the same segments, no one moved
    assert report_data(wh, day2, {})["segment_changes"] == []


def test_destinations_get_their_fields_in_order_and_marketing_only_consenting_unsuppressed(
    wh: Warehouse,
) -> None:
    published_day(wh)
    everyone = DestinationConfig(
        name="bi", kind="files", fields=["customer_id", "rfm_segment", "city", "source_ids"]
    )
    assert destination_frame(wh, everyone, SEGMENTS_AS_OF, ["email"]).rows() == [
        (SEGMENTS_AS_OF, "C1", "Champions", "上海", "crm:M10;crm:M2"),  # its device record has no source id
        (SEGMENTS_AS_OF, "C2", "Lost", None, "shop:1002"),
        (SEGMENTS_AS_OF, "C3", "No Purchase", "杭州", None),  # only a record made from an e-mail address
    ]
    rules = DestinationConfig(name="rules", kind="files", scheme="rules", fields=["customer_id"])
    assert destination_frame(wh, rules, SEGMENTS_AS_OF, []).rows() == [
        (SEGMENTS_AS_OF, "rules", "high_frequency_players", "C1"),
        (SEGMENTS_AS_OF, "rules", "high_frequency_players", "C3"),
        (SEGMENTS_AS_OF, "rules", "high_intent_not_paying", "C3"),
    ]
    changes = DestinationConfig(  # a CRM sync: the CRM knows its customers by its own ids
        name="moves", kind="files", mode="changes", scheme="tier", fields=["customer_id", "source_ids"]
    )
    assert destination_frame(wh, changes, SEGMENTS_AS_OF, []).rows() == [
        (SEGMENTS_AS_OF, "tier", "high", "entered", "C1", "crm:M10;crm:M2"),
        (SEGMENTS_AS_OF, "tier", "low", "entered", "C2", "shop:1002"),
        (SEGMENTS_AS_OF, "tier", "none", "entered", "C3", None),
    ]
    masked = DestinationConfig(
        name="ids", kind="files", fields=["customer_id", "source_ids"], transforms={"source_ids": "mask"}
    )
    assert destination_frame(wh, masked, SEGMENTS_AS_OF, ["source_ids"]).rows() == [
        (SEGMENTS_AS_OF, "C1", "c*************"),
        (SEGMENTS_AS_OF, "C2", "s********"),
        (SEGMENTS_AS_OF, "C3", None),
    ]
    mail = DestinationConfig(  # a postal mailing: the address is personal data (privacy.pii_fields)
        name="mail",
        kind="files",
        fields=["customer_id", "address", "postcode", "country"],
        transforms={"address": "mask"},
    )
    assert destination_frame(wh, mail, SEGMENTS_AS_OF, ["address"]).rows() == [
        (SEGMENTS_AS_OF, "C1", None, "200000", "China"),
        (SEGMENTS_AS_OF, "C2", None, None, None),
        (SEGMENTS_AS_OF, "C3", "文******", None, "China"),
    ]

    ads = DestinationConfig(
        name="ads",
        kind="files",
        purpose="marketing",
        fields=["customer_id", "email"],
        transforms={"email": "sha256"},
    )
    assert destination_frame(wh, ads, SEGMENTS_AS_OF, ["email"]).rows() == [
        (SEGMENTS_AS_OF, "C1", sha256_hex("c1@example.com"))
    ]
    wh.execute(
        "insert into audit.suppression values ('phone', ?, 'suppression_file', now())",
        [sha256_hex("+8613800138001")],
    )
    assert destination_frame(wh, ads, SEGMENTS_AS_OF, ["email"]).rows() == []


def test_every_published_table_gets_the_columns_a_newer_model_has(wh: Warehouse) -> None:
    # published by an older version: tags without their Chinese name, changes without the previous day
    older = SEGMENTS_AS_OF - timedelta(days=1)
    wh.execute(
        "create table published.customer_tags as "
        "select ?::date as as_of, 'C1' as customer_id, 'value_tier' as tag, '高价值' as value",
        [older],
    )
    wh.execute(
        "create table published.segment_changes as select ?::date as as_of, 'rfm' as scheme, "
        "'Champions' as segment, 'C1' as customer_id, 'entered' as change",
        [older],
    )
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    # the earlier table became spans of tag sets behind a view of the same name (tasks/publish/tags.py)
    assert wh.columns("published.customer_tags") == ["as_of", "customer_id", "tag", "tag_zh", "value"]
    assert columns_of(wh, "published", "segment_changes") == [
        "as_of",
        "scheme",
        "segment",
        "customer_id",
        "change",
        "previous_as_of",
    ]
    assert wh.rows("select tag_zh from published.customer_tags where as_of = ?", [older]) == [(None,)]
    assert wh.scalar("select count(*) from published.customer_tags where tag_zh is null") == 1
    assert wh.rows(
        "select as_of, previous_as_of, count(*) from published.segment_changes group by all order by 1"
    ) == [(older, None, 1), (SEGMENTS_AS_OF, None, 18)]  # no segments published before: all entered


def test_counts_receives_the_rows_of_each_published_table(wh: Warehouse) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    counts: dict[str, int] = {}
    assert publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a", counts=counts) == 3
    assert counts == {
        "published.customer_segments": 3,
        "published.customer_tags": 26,
        "published.segment_changes": 18,
        "published.audience_members": 0,  # the act stage did not run: no audience, no outreach, no outcome
        "published.campaign_outcomes": 0,
        "published.outreach": 0,
    }


# --- the report's churn-risk and value charts ---------------------------------------------------------

RISK_DAY = SEGMENTS_AS_OF
SEGMENTS_WITH_PREDICTIONS = (
    "as_of date, customer_id varchar, rfm_segment varchar, rfm_segment_zh varchar, churn_risk double, "
    "risk_tier varchar, risk_tier_zh varchar, predicted_value_90d double"
)


def published_predictions(wh: Warehouse) -> None:
    """Six customers of RISK_DAY with their predictions (one without a purchase), one of the day before."""
    create(
        wh,
        "published.customer_segments",
        SEGMENTS_WITH_PREDICTIONS,
        [
            (RISK_DAY, "C1", "Champions", "冠军客户", 0.25, "low", "低", 300.5),
            (RISK_DAY, "C2", "Champions", "冠军客户", 0.5, "medium", "中", 100.25),
            (RISK_DAY, "C3", "Lost", "已流失客户", 0.75, "high", "高", 10.0),
            (RISK_DAY, "C4", "Lost", "已流失客户", 1.0, "high", "高", None),  # no Gamma-Gamma value
            (RISK_DAY, "C5", "At Risk", "有流失风险客户", 0.875, "high", "高", 40.0),
            (RISK_DAY, "C6", "No Purchase", "未购买客户", None, None, None, None),
            (RISK_DAY - timedelta(days=1), "C1", "Lost", "已流失客户", 0.875, "high", "高", 999.0),
        ],
    )


def test_risk_value_by_segment_counts_and_values_tiers_then_segments(wh: Warehouse) -> None:
    published_predictions(wh)
    sql = wh.model_sql("published/risk_value_by_segment", identifiers={"value_column": "predicted_value_90d"})
    # scheme, segment, segment_zh, customers, scored, mean_churn_risk, valued, predicted_value
    assert wh.rows(sql, {"as_of": RISK_DAY}) == [
        ("risk", "high", "高", 3, 3, 0.875, 2, 50.0),
        ("risk", "medium", "中", 1, 1, 0.5, 1, 100.25),
        ("risk", "low", "低", 1, 1, 0.25, 1, 300.5),
        ("risk", "(no risk score)", None, 1, 0, None, 0, None),
        ("rfm", "Champions", "冠军客户", 2, 2, 0.375, 2, 400.75),
        ("rfm", "At Risk", "有流失风险客户", 1, 1, 0.875, 1, 40.0),
        ("rfm", "Lost", "已流失客户", 2, 2, 0.875, 1, 10.0),
        ("rfm", "No Purchase", "未购买客户", 1, 0, None, 0, None),
    ]


def test_churn_calibration_pools_the_cutoffs_of_the_as_of_weighted_by_customers(wh: Warehouse) -> None:
    create(
        wh,
        "predict.calibration",
        "as_of date, cutoff date, model varchar, decile integer, customers bigint, "
        "mean_predicted double, observed_rate double",
        [
            (RISK_DAY, date(2026, 9, 1), "gradient_boosting", 1, 1, 0.5, 0.0),
            (RISK_DAY, date(2026, 6, 3), "gradient_boosting", 1, 3, 0.25, 0.5),
            (RISK_DAY, date(2026, 9, 1), "gradient_boosting", 2, 2, 0.75, 1.0),
            (RISK_DAY, date(2026, 9, 1), "recency_baseline", 1, 4, 0.5, 0.25),
            (RISK_DAY - timedelta(days=1), date(2026, 9, 1), "gradient_boosting", 1, 100, 0.0, 1.0),
        ],
    )
    assert wh.rows(wh.model_sql("published/churn_calibration"), {"as_of": RISK_DAY}) == [
        ("gradient_boosting", 1, 4, 0.3125, 0.375),
        ("gradient_boosting", 2, 2, 0.75, 1.0),
        ("recency_baseline", 1, 4, 0.5, 0.25),
    ]


def test_risk_data_reads_the_value_column_of_the_horizon_and_skips_what_is_missing(wh: Warehouse) -> None:
    published_predictions(wh)
    summary = {"predict": {"horizon_days": 90, "churn_model": "gradient_boosting"}}
    data = risk_data(wh, RISK_DAY, summary)
    assert data["horizon_days"] == 90
    assert data["churn_model"] == "gradient_boosting"
    assert data["risk_value"][0] == ("risk", "high", "高", 3, 3, 0.875, 2, 50.0)
    assert data["calibration"] == []  # predict.calibration does not exist
    # a summary of another horizon names a column the table does not have: no rows, no error
    assert risk_data(wh, RISK_DAY, {"predict": {"horizon_days": 30}})["risk_value"] == []
    # an older summary without predict: the default horizon's column
    assert risk_data(wh, RISK_DAY, {})["risk_value"] == data["risk_value"]

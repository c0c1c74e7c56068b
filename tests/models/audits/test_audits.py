"""The audits: each query returns the offending rows; a publish fails on any."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tasks.publish import AUDITS, run_audits
from tasks.segment import write_rule_table
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, local

AUDIT_AS_OF = date(2026, 3, 31)


SCHEME_COLUMNS = (
    "rfm_segment_zh varchar, rfm_cn_class varchar, rfm_cn_class_en varchar, value_tier varchar, "
    "lifecycle_stage varchar, cluster_name varchar, cluster_name_zh varchar"
)


def good_publish_inputs(wh: Warehouse) -> None:
    write_rule_table(wh)  # segments.rfm_fallback: the segment of customers without a purchase
    create(
        wh,
        "segments.customer_segments",
        "as_of date, customer_id varchar, frequency bigint, "
        "r_score integer, f_score integer, m_score integer, rfm_segment varchar, cluster_id integer, "
        + SCHEME_COLUMNS,
        [
            (AUDIT_AS_OF, "C1", 3, 5, 4, 4, "Champions", 0, "冠军客户", "重要价值客户", "Important Value")
            + ("high", "active", "frequent high-spending customers", "高频高消费客户"),
            # no purchase: no scores, the fallback segment of both RFM schemes, still a cluster
            (
                AUDIT_AS_OF,
                "C2",
                None,
                None,
                None,
                None,
                "No Purchase",
                1,
                "未购买客户",
                "未购买客户",
                "No Purchase",
            )
            + ("none", "never_purchased", "rarely playing customers", "少玩客户"),
        ],
    )
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [("crm", "m1", "C1"), ("pay", "m1", "C1"), ("crm", "m2", "C2")],
    )
    create(
        wh,
        "core.customer_records",
        "source varchar, source_id varchar, seen_ts timestamptz",
        [
            ("crm", "m1", local(AUDIT_AS_OF)),
            ("crm", "m2", None),
            ("crm", "m3", local(AUDIT_AS_OF + timedelta(1))),
        ],
    )
    create(
        wh,
        "core.customer_ids",
        "customer_id varchar, status varchar, merged_into varchar",
        [("C1", "active", None), ("C2", "active", None), ("C0", "merged", "C1")],
    )
    wh.build_view("core.customer_id_redirects", "core/customer_id_redirects")


def failed_audits(wh: Warehouse) -> list[tuple[str, str]]:
    with pytest.raises(DataError) as caught:
        run_audits(wh, AUDIT_AS_OF)
    message = str(caught.value)
    assert message.startswith("audits failed, nothing was published:\n")
    return re.findall(r"^  (\w+): (\d+) offending rows", message, flags=re.MULTILINE)


def test_audits_pass_on_good_input(wh: Warehouse) -> None:
    assert AUDITS == [
        "customer_ids_resolve_to_active",
        "customer_segments_every_scheme",
        "customer_segments_keys_present",
        "customer_segments_one_row_per_customer",
        "customer_segments_scores_valid",
        "identity_map_covers_customer_records",
        "identity_map_one_row_per_record",
    ]
    good_publish_inputs(wh)
    assert run_audits(wh, AUDIT_AS_OF) is None
    assert [wh.audit(name, {"as_of": AUDIT_AS_OF}) for name in AUDITS] == [[], [], [], [], [], [], []]


BAD_INPUTS = {
    "customer id missing": (
        "insert into segments.customer_segments "
        "select * replace (null as customer_id) from segments.customer_segments where customer_id = 'C2'",
        ["customer_segments_keys_present"],
    ),
    "other as_of": (
        "update segments.customer_segments set as_of = '2026-03-30' where customer_id = 'C2'",
        ["customer_segments_keys_present"],
    ),
    "customer twice": (
        "insert into segments.customer_segments select * from segments.customer_segments where customer_id = 'C1'",
        ["customer_segments_one_row_per_customer"],
    ),
    "score out of range": (
        "update segments.customer_segments set r_score = 6 where customer_id = 'C1'",
        ["customer_segments_scores_valid"],
    ),
    "purchase without segment": (
        "update segments.customer_segments set rfm_segment = null where customer_id = 'C1'",
        ["customer_segments_every_scheme", "customer_segments_scores_valid"],
    ),
    "purchase without cluster": (
        "update segments.customer_segments set cluster_id = null where customer_id = 'C1'",
        ["customer_segments_every_scheme", "customer_segments_scores_valid"],
    ),
    "score without purchase": (
        "update segments.customer_segments set r_score = 1 where customer_id = 'C2'",
        ["customer_segments_scores_valid"],
    ),
    "no purchase outside the fallback segment": (
        "update segments.customer_segments set rfm_segment = 'Lost' where customer_id = 'C2'",
        ["customer_segments_scores_valid"],
    ),
    "no purchase without a segment": (
        "update segments.customer_segments set rfm_segment = null where customer_id = 'C2'",
        ["customer_segments_every_scheme", "customer_segments_scores_valid"],
    ),
    "no Chinese class": (
        "update segments.customer_segments set rfm_cn_class = null where customer_id = 'C2'",
        ["customer_segments_every_scheme"],
    ),
    "no cluster name": (
        "update segments.customer_segments set cluster_name_zh = null where customer_id = 'C2'",
        ["customer_segments_every_scheme"],
    ),
    "no lifecycle stage": (
        "update segments.customer_segments set lifecycle_stage = null where customer_id = 'C1'",
        ["customer_segments_every_scheme"],
    ),
    "record mapped twice": (
        "insert into core.identity_map values ('crm', 'm1', 'C2')",
        ["identity_map_one_row_per_record"],
    ),
    "record mapped to no customer": (
        "insert into core.identity_map values ('crm', 'm9', null)",
        ["identity_map_one_row_per_record"],
    ),
    # m3 is seen after as_of: it may be missing; m4 may not
    "customer record seen by as_of missing from identity_map": (
        "insert into core.customer_records values ('web', 'm4', '2026-03-31 23:59:59+08')",
        ["identity_map_covers_customer_records"],
    ),
    "merge chain ending at a merged id": (
        "update core.customer_ids set status = 'merged', merged_into = 'C9' where customer_id = 'C2'",
        ["customer_ids_resolve_to_active"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_audit_fails_on_bad_input(wh: Warehouse, case: str) -> None:
    statement, audits = BAD_INPUTS[case]
    good_publish_inputs(wh)
    wh.execute(statement)
    assert failed_audits(wh) == [(audit, "1") for audit in audits]


def test_audit_message_shows_an_offending_row(wh: Warehouse) -> None:
    good_publish_inputs(wh)
    wh.execute("insert into core.identity_map values ('crm', 'm1', 'C2')")
    with pytest.raises(DataError) as caught:
        run_audits(wh, AUDIT_AS_OF)
    assert str(caught.value) == (
        "audits failed, nothing was published:\n"
        "  identity_map_one_row_per_record: 1 offending rows, e.g. "
        "{'source': 'crm', 'source_id': 'm1', 'rows': 2, 'customers': 2}"
    )


def test_audit_catches_a_null_score_of_a_purchasing_customer(wh: Warehouse) -> None:
    good_publish_inputs(wh)
    wh.execute("update segments.customer_segments set r_score = null where customer_id = 'C1'")
    assert failed_audits(wh) == [("customer_segments_scores_valid", "1")]

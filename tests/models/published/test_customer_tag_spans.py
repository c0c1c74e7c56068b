"""published.customer_tags as spans of each customer's tag set: each day reads exactly the tags published for it.

segments.customer_tags is a table here (the rows a day's segment stage would give), so each test says
exactly which tags a day has; publish_tags publishes them as tasks/publish/tables.py does.
"""

import random
from collections import Counter
from datetime import date, timedelta

import pytest

from tasks.publish.tags import publish_tags
from tasks.shared.lineage import delete_keyed_rows, erasable_tables
from tasks.shared.warehouse import Warehouse

D1 = date(2026, 11, 20)
D2, D3, D4 = D1 + timedelta(days=1), D1 + timedelta(days=2), D1 + timedelta(days=3)
Row = tuple[str, str, str | None, str | None]  # customer_id, tag, tag_zh, value

C1_DAY: list[Row] = [
    ("C1", "value_tier", "付费等级", "高价值"),
    ("C1", "activity", "活跃度", "高活跃"),
    ("C1", "rule_segment", "规则分群", "高频玩家"),
]
C2_DAY: list[Row] = [
    ("C2", "value_tier", "付费等级", "低价值"),
    ("C2", "activity", "活跃度", "低活跃"),
]
C3_DAY: list[Row] = [("C3", "value_tier", "付费等级", "未消费")]


def day_tags(wh: Warehouse, as_of: date, rows: list[Row]) -> None:
    """segments.customer_tags as the segment stage would leave it for as_of."""
    wh.execute("create schema if not exists segments")
    wh.execute(
        "create or replace table segments.customer_tags "
        "(as_of date, customer_id varchar, tag varchar, tag_zh varchar, value varchar)"
    )
    if rows:
        wh.con.executemany(
            "insert into segments.customer_tags values (?, ?, ?, ?, ?)", [(as_of, *row) for row in rows]
        )


def publish(wh: Warehouse, as_of: date, rows: list[Row]) -> int:
    day_tags(wh, as_of, rows)
    return publish_tags(wh, as_of)


def tags(wh: Warehouse, as_of: date) -> list[tuple]:
    """published.customer_tags of one day, as a reader selects it."""
    return wh.rows(
        "select customer_id, tag, tag_zh, value from published.customer_tags where as_of = ? order by all",
        [as_of],
    )


def spans(wh: Warehouse) -> list[tuple]:
    """(customer_id, valid_from, valid_to, the set's values in order) of every span."""
    return wh.rows(
        "select spans.customer_id, valid_from, valid_to, list(sets.value order by sets.value) "
        "from published.customer_tag_spans as spans join published.customer_tag_sets as sets "
        "using (customer_id, tags_hash) group by all order by all"
    )


def stored_sets(wh: Warehouse) -> list[tuple]:
    """(customer_id, rows) of every stored tag set."""
    return wh.rows(
        "select customer_id, count(*) from published.customer_tag_sets group by customer_id, tags_hash order by all"
    )


def test_a_new_day_writes_only_the_customers_whose_tags_changed(wh: Warehouse) -> None:
    assert publish(wh, D1, C1_DAY + C2_DAY) == 5
    changed = [
        ("C1", "value_tier", "付费等级", "高价值"),
        ("C1", "activity", "活跃度", "中活跃"),  # C1 played less
        ("C1", "rule_segment", "规则分群", "高频玩家"),
        *C2_DAY,
        *C3_DAY,  # a new customer
    ]
    assert publish(wh, D2, changed) == 6
    assert tags(wh, D1) == sorted(C1_DAY + C2_DAY)
    assert tags(wh, D2) == sorted(changed)
    assert spans(wh) == [
        ("C1", D1, D2, ["高价值", "高活跃", "高频玩家"]),
        ("C1", D2, None, ["中活跃", "高价值", "高频玩家"]),
        ("C2", D1, None, ["低价值", "低活跃"]),  # unchanged: its span stays open, nothing written
        ("C3", D2, None, ["未消费"]),
    ]
    assert wh.columns("published.customer_tags") == ["as_of", "customer_id", "tag", "tag_zh", "value"]
    assert wh.rows("select as_of from published.customer_tag_days order by 1") == [(D1,), (D2,)]


def test_a_rerun_of_a_day_replaces_its_tags_and_changes_nothing_else(wh: Warehouse) -> None:
    publish(wh, D1, C1_DAY)
    publish(wh, D2, C1_DAY + C2_DAY)
    assert publish(wh, D2, C1_DAY + C2_DAY) == 5  # the same day again, unchanged: the same spans
    assert spans(wh) == [
        ("C1", D1, None, ["高价值", "高活跃", "高频玩家"]),
        ("C2", D2, None, ["低价值", "低活跃"]),
    ]
    rerun = [C1_DAY[0], *C3_DAY]  # the rerun of D2 has other data: C1 lost two tags, C2 went, C3 came
    assert publish(wh, D2, rerun) == 2
    assert tags(wh, D1) == sorted(C1_DAY)
    assert tags(wh, D2) == sorted(rerun)
    assert spans(wh) == [
        ("C1", D1, D2, ["高价值", "高活跃", "高频玩家"]),
        ("C1", D2, None, ["高价值"]),
        ("C3", D2, None, ["未消费"]),
    ]
    assert stored_sets(wh) == [("C1", 1), ("C1", 3), ("C3", 1)]  # C2's set, named by no span, is gone
    assert publish(wh, D1, rerun) == 2  # the first day rerun like the second: one span per customer again
    assert spans(wh) == [("C1", D1, None, ["高价值"]), ("C3", D1, None, ["未消费"])]
    assert stored_sets(wh) == [("C1", 1), ("C3", 1)]


def test_a_backfill_of_an_earlier_day_after_later_days(wh: Warehouse) -> None:
    publish(wh, D2, C1_DAY)
    publish(wh, D4, C1_DAY + C2_DAY)
    # D3 lies between published days, D1 before them all
    assert publish(wh, D3, [C1_DAY[0], *C2_DAY]) == 3
    assert publish(wh, D1, [*C2_DAY, *C3_DAY]) == 3
    assert [tags(wh, day) for day in (D1, D2, D3, D4)] == [
        sorted(C2_DAY + C3_DAY),
        sorted(C1_DAY),
        sorted([C1_DAY[0], *C2_DAY]),
        sorted(C1_DAY + C2_DAY),
    ]
    assert spans(wh) == [
        ("C1", D2, D3, ["高价值", "高活跃", "高频玩家"]),
        ("C1", D3, D4, ["高价值"]),
        ("C1", D4, None, ["高价值", "高活跃", "高频玩家"]),  # the same set again: its rows stored once
        ("C2", D1, D2, ["低价值", "低活跃"]),
        ("C2", D3, None, ["低价值", "低活跃"]),
        ("C3", D1, D2, ["未消费"]),
    ]
    assert stored_sets(wh) == [("C1", 1), ("C1", 3), ("C2", 2), ("C3", 1)]
    assert wh.rows("select as_of from published.customer_tag_days order by 1") == [(D1,), (D2,), (D3,), (D4,)]


def test_a_day_published_again_with_the_set_of_its_neighbours_joins_their_spans(wh: Warehouse) -> None:
    publish(wh, D1, C1_DAY)
    publish(wh, D2, [C1_DAY[0]])
    publish(wh, D3, C1_DAY)
    assert spans(wh) == [
        ("C1", D1, D2, ["高价值", "高活跃", "高频玩家"]),
        ("C1", D2, D3, ["高价值"]),
        ("C1", D3, None, ["高价值", "高活跃", "高频玩家"]),
    ]
    publish(wh, D2, C1_DAY)
    assert spans(wh) == [("C1", D1, None, ["高价值", "高活跃", "高频玩家"])]
    assert stored_sets(wh) == [("C1", 3)]
    assert [tags(wh, day) for day in (D1, D2, D3)] == [sorted(C1_DAY)] * 3


def test_an_erased_customer_has_no_tags_on_any_day(wh: Warehouse) -> None:
    publish(wh, D1, C1_DAY + C2_DAY)
    publish(wh, D2, C1_DAY + C2_DAY + C3_DAY)
    removed: dict[str, int] = {}
    for table in erasable_tables(wh):  # as tasks/erase/tables.py deletes a person's keyed rows
        delete_keyed_rows(wh, table, wh.columns(table), ["C1"], removed)
    assert removed["published.customer_tag_spans"] == 1
    assert removed["published.customer_tag_sets"] == 3
    assert tags(wh, D1) == sorted(C2_DAY)
    assert tags(wh, D2) == sorted(C2_DAY + C3_DAY)
    publish(wh, D3, C2_DAY)  # the next day, without the erased customer
    publish(wh, D1, C2_DAY + C3_DAY)  # and a rerun of an earlier day
    assert [tags(wh, day) for day in (D1, D2, D3)] == [
        sorted(C2_DAY + C3_DAY),
        sorted(C2_DAY + C3_DAY),
        sorted(C2_DAY),
    ]
    assert wh.scalar("select count(*) from published.customer_tags where customer_id = 'C1'") == 0


def test_a_row_a_day_has_twice_is_read_twice(wh: Warehouse) -> None:
    """Two rule segments with the same Chinese label give a customer the same tag row twice."""
    twice = [
        *C2_DAY,
        ("C2", "rule_segment", "规则分群", "流失预警"),
        ("C2", "rule_segment", "规则分群", "流失预警"),
    ]
    assert publish(wh, D1, twice) == 4
    assert publish(wh, D2, [*C2_DAY, ("C2", "rule_segment", "规则分群", "流失预警")]) == 3
    assert tags(wh, D1) == sorted(twice)
    assert tags(wh, D2) == sorted([*C2_DAY, ("C2", "rule_segment", "规则分群", "流失预警")])
    assert spans(wh) == [
        ("C2", D1, D2, ["低价值", "低活跃", "流失预警", "流失预警"]),
        ("C2", D2, None, ["低价值", "低活跃", "流失预警"]),
    ]


def test_an_earlier_versions_table_becomes_spans_with_the_same_rows(wh: Warehouse) -> None:
    """The per-day table of an earlier version, older rows without tag_zh, days with gaps and duplicates."""
    wh.execute(
        "create table published.customer_tags (as_of date, customer_id varchar, tag varchar, value varchar)"
    )
    old = [
        (D1, "C1", "value_tier", "高价值"),
        (D1, "C2", "value_tier", "低价值"),
        (D2, "C1", "value_tier", "高价值"),
        (D2, "C1", "rule_segment", "高频玩家"),
        (D2, "C1", "rule_segment", "高频玩家"),
        (D3, "C1", "value_tier", "高价值"),
        (D3, "C2", "value_tier", "低价值"),
    ]
    wh.con.executemany("insert into published.customer_tags values (?, ?, ?, ?)", old)
    assert publish(wh, D4, C3_DAY) == 1
    assert "published.customer_tags" not in wh.base_tables(["published"])
    for day in (D1, D2, D3):
        assert tags(wh, day) == sorted((c, tag, None, value) for d, c, tag, value in old if d == day)
    assert tags(wh, D4) == sorted(C3_DAY)
    assert spans(wh) == [
        ("C1", D1, D2, ["高价值"]),
        ("C1", D2, D3, ["高价值", "高频玩家", "高频玩家"]),
        ("C1", D3, D4, ["高价值"]),
        ("C2", D1, D2, ["低价值"]),
        ("C2", D3, D4, ["低价值"]),
        ("C3", D4, None, ["未消费"]),
    ]
    assert stored_sets(wh) == [("C1", 1), ("C1", 3), ("C2", 1), ("C3", 1)]


def test_an_empty_table_of_an_earlier_version_is_replaced(wh: Warehouse) -> None:
    wh.execute(
        "create table published.customer_tags (as_of date, customer_id varchar, tag varchar, value varchar)"
    )
    assert publish(wh, D1, C1_DAY) == 3
    assert tags(wh, D1) == sorted(C1_DAY)


def test_a_day_without_tags_is_published_empty(wh: Warehouse) -> None:
    assert publish(wh, D1, []) == 0
    assert publish(wh, D2, C1_DAY) == 3
    assert publish(wh, D3, []) == 0
    assert [tags(wh, day) for day in (D1, D2, D3)] == [[], sorted(C1_DAY), []]


@pytest.mark.parametrize("seed", range(6))
def test_any_order_of_publishes_reads_like_a_table_of_every_days_rows(wh: Warehouse, seed: int) -> None:
    """Random days published in random order, reruns included, against the per-day rows they replace."""
    rng = random.Random(seed)
    days = [D1 + timedelta(days=n) for n in range(8)]
    pool: list[Row] = [
        (f"C{c}", tag, zh, value)
        for c in range(6)
        for tag, zh, values in (
            ("value_tier", "付费等级", ("高价值", "低价值")),
            ("activity", "活跃度", ("高活跃", "低活跃", None)),
            ("rule_segment", None, ("甲", "乙")),
        )
        for value in values
    ]
    expected: dict[date, list[Row]] = {}
    for _ in range(30):
        day = rng.choice(days)
        # few changes from a published day's rows most of the time, as real days have
        base = expected[rng.choice(list(expected))] if expected and rng.random() < 0.6 else pool
        rows = [row for row in base if rng.random() < 0.9] + rng.sample(pool, 2)  # a few rows twice
        assert publish(wh, day, rows) == len(rows)
        expected[day] = rows
        for published in expected:
            assert Counter(tags(wh, published)) == Counter(expected[published]), (seed, day, published)
    # no two spans of one set touch, and no two spans of a customer overlap
    assert not wh.rows(
        "select * from published.customer_tag_spans a join published.customer_tag_spans b using (customer_id) "
        "where a.valid_from < b.valid_from and coalesce(a.valid_to, 'infinity'::date) > b.valid_from"
    )
    assert not wh.rows(
        "select * from published.customer_tag_spans a join published.customer_tag_spans b "
        "using (customer_id, tags_hash) where a.valid_to = b.valid_from"
    )
    # every stored set is named by a span
    assert not wh.rows(
        "select * from published.customer_tag_sets anti join published.customer_tag_spans "
        "using (customer_id, tags_hash)"
    )

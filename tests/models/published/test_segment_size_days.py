"""published.segment_size_days: each day's segment sizes counted once and kept, the trend always equal to a
count of every day's published rows now (after an erasure, a day published again, a new counting model)."""

from datetime import date, timedelta

import pytest

from tasks.publish import publish_tables
from tasks.publish import sizes as sizes_module
from tasks.publish.sizes import size_trend
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments

DAY1, DAY2 = SEGMENTS_AS_OF, SEGMENTS_AS_OF + timedelta(days=1)


def counted_now(wh: Warehouse, as_of: date) -> list[tuple]:
    """The trend as counting every published day's rows now gives it (what the report drew before)."""
    wh.build("_size_stale_days", "published/segment_size_all_days", temp=True)
    counted = wh.model_sql("published/segment_sizes_by_day")
    rows = wh.rows(
        f"select as_of, scheme, segment, label_zh, label_en, no_purchase, customers from ({counted}) "
        "where as_of <= $as_of order by as_of, scheme, customers desc, segment",
        {"as_of": as_of, "model": "reference"},
    )
    wh.execute("drop table _size_stale_days")
    return rows


def rfm(trend: list[tuple]) -> list[tuple]:
    return [(row[0], row[2], row[6]) for row in trend if row[1] == "rfm"]


@pytest.fixture
def two_days(wh: Warehouse) -> Warehouse:
    for day in (DAY1, DAY2):
        build_segments(wh, day)
        publish_tables(wh, day, f"run-{day}", "hash-a")
        size_trend(wh, day)  # as the day's report reads it
    return wh


def test_a_day_is_counted_when_published_and_read_back_later(two_days: Warehouse) -> None:
    wh = two_days
    trend = size_trend(wh, DAY2)
    assert trend == counted_now(wh, DAY2)
    assert rfm(trend) == [
        (DAY1, "Champions", 1),
        (DAY1, "Lost", 1),
        (DAY1, "No Purchase", 1),
        (DAY2, "Champions", 1),
        (DAY2, "Lost", 1),
        (DAY2, "No Purchase", 1),
    ]
    assert size_trend(wh, DAY1) == counted_now(wh, DAY1)  # a day's report sees no later day
    # DAY1's stored sizes are read, not counted again, when DAY2 is published again
    wh.execute(
        "update published.segment_size_days set customers = 7 where as_of = ? and scheme = 'rfm'", [DAY1]
    )
    assert rfm(size_trend(wh, DAY2))[:3] == [
        (DAY1, "Champions", 7),
        (DAY1, "Lost", 7),
        (DAY1, "No Purchase", 7),
    ]


def test_a_person_erased_from_earlier_days_leaves_their_sizes(two_days: Warehouse) -> None:
    wh = two_days
    wh.execute("delete from published.customer_segments where customer_id = 'C1'")  # as erasure does
    trend = size_trend(wh, DAY2)
    assert trend == counted_now(wh, DAY2)
    assert rfm(trend) == [
        (DAY1, "Lost", 1),
        (DAY1, "No Purchase", 1),
        (DAY2, "Lost", 1),
        (DAY2, "No Purchase", 1),
    ]


def test_a_day_published_again_is_counted_again_with_the_same_number_of_rows(two_days: Warehouse) -> None:
    wh = two_days
    wh.execute(
        "update published.customer_segments set rfm_segment = 'Lost' where as_of = ? and customer_id = 'C1'",
        [DAY1],
    )
    trend = size_trend(wh, DAY1)  # DAY1's publish again reads its report's trend
    assert trend == counted_now(wh, DAY1)
    assert rfm(trend) == [(DAY1, "Lost", 2), (DAY1, "No Purchase", 1)]
    assert size_trend(wh, DAY2) == counted_now(wh, DAY2)


def test_sizes_another_counting_model_counted_are_counted_again(
    two_days: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = two_days
    wh.execute("update published.segment_size_days set customers = 7")
    monkeypatch.setattr(sizes_module, "counting_model_hash", lambda: "another-version")
    assert size_trend(wh, DAY2) == counted_now(wh, DAY2)
    assert wh.rows("select distinct model from published.segment_size_days") == [("another-version",)]


def test_a_day_no_longer_published_loses_its_sizes(two_days: Warehouse) -> None:
    wh = two_days
    wh.execute("delete from published.customer_segments where as_of = ?", [DAY1])
    assert size_trend(wh, DAY2) == counted_now(wh, DAY2)
    assert wh.rows("select distinct as_of from published.segment_size_days") == [(DAY2,)]


def test_scheme_sizes_count_what_the_memberships_hold(wh: Warehouse) -> None:
    """published/scheme_sizes (report.md's other schemes) against the day's memberships (segment_memberships)."""
    build_segments(wh, DAY1)
    publish_tables(wh, DAY1, "run-1", "hash-a")
    sizes = wh.select("published/scheme_sizes", {"as_of": DAY1})
    memberships = wh.model_sql("published/segment_memberships", {"segments": "published.customer_segments"})
    members = wh.rows(
        f"select scheme, segment, count(*) from ({memberships}) "
        "where scheme in ('tier', 'lifecycle', 'rfm_cn', 'rules') group by all order by all",
        {"as_of": DAY1},
    )
    # rfm_cn is keyed by its Chinese class in the memberships, by its English label (segment) here
    counted = sorted(
        (s["scheme"], s["segment_zh"] if s["scheme"] == "rfm_cn" else s["segment"], s["customers"])
        for s in sizes
        if s["scheme"] != "risk"
    )
    assert counted == members
    assert {s["scheme"] for s in sizes} >= {"tier", "lifecycle", "rfm_cn"}
    assert all(s["segment"] and s["segment_zh"] for s in sizes)

"""Model tests of the published tables: a day's rows replaced, runs recorded, new model columns added."""

from __future__ import annotations

from datetime import date, timedelta

from tasks.publish import code_version, partial_days, publish_tables
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENT_COLUMNS, SEGMENTS_AS_OF, build_segments, columns_of


def published(wh: Warehouse) -> list[tuple]:
    return wh.rows(
        "select as_of, customer_id, rfm_segment, cluster_id, run_id from published.customer_segments order by all"
    )


def runs(wh: Warehouse) -> list[tuple]:
    return wh.rows(
        "select run_id, as_of, config_hash, code_version, rows from published.runs order by published_at, run_id"
    )


def test_publish_tables_replaces_the_same_as_of_and_adds_another(wh: Warehouse) -> None:
    day1, day2 = SEGMENTS_AS_OF, SEGMENTS_AS_OF + timedelta(days=1)
    version = code_version()
    build_segments(wh, day1)
    assert publish_tables(wh, day1, "run-1", "hash-a") == 3
    assert publish_tables(wh, day1, "run-2", "hash-b") == 3  # a rerun of the day replaces its rows
    assert published(wh) == [
        (day1, "C1", "Champions", 0, "run-2"),
        (day1, "C2", "Lost", 1, "run-2"),
        (day1, "C3", "No Purchase", 2, "run-2"),
    ]
    assert columns_of(wh, "published", "customer_segments") == [
        *SEGMENT_COLUMNS,
        "recommended_items",
        "run_id",
    ]

    build_segments(wh, day2)
    assert publish_tables(wh, day2, "run-3", "hash-b") == 3  # another day is added
    assert published(wh) == [
        (day1, "C1", "Champions", 0, "run-2"),
        (day1, "C2", "Lost", 1, "run-2"),
        (day1, "C3", "No Purchase", 2, "run-2"),
        (day2, "C1", "Champions", 0, "run-3"),
        (day2, "C2", "Lost", 1, "run-3"),
        (day2, "C3", "No Purchase", 2, "run-3"),
    ]
    assert runs(wh) == [
        ("run-1", day1, "hash-a", version, 3),
        ("run-2", day1, "hash-b", version, 3),
        ("run-3", day2, "hash-b", version, 3),
    ]
    assert wh.scalar("select count(*) from published.runs where published_at is null") == 0
    # tags are published with the day's rows, replaced on a rerun: 8 tags x 3 customers, but C2 has no
    # favourite game, plus one tag per rule membership (3)
    assert wh.rows("select as_of, count(*) from published.customer_tags group by 1 order by 1") == [
        (day1, 26),
        (day2, 26),
    ]


def test_publish_adds_columns_a_newer_model_has(wh: Warehouse) -> None:
    # a warehouse published by an older version: fewer columns
    wh.execute(
        "create table published.customer_segments as "
        "select date '2026-03-30' as as_of, 'C1' as customer_id, 'Champions' as rfm_segment, 'old-run' as run_id"
    )
    build_segments(wh, SEGMENTS_AS_OF)
    assert publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a") == 3
    assert columns_of(wh, "published", "customer_segments")[:4] == [
        "as_of",
        "customer_id",
        "rfm_segment",
        "run_id",
    ]
    assert set(SEGMENT_COLUMNS) <= set(columns_of(wh, "published", "customer_segments"))
    assert wh.rows(
        "select as_of, customer_id, value_tier from published.customer_segments order by as_of, customer_id"
    ) == [
        (date(2026, 3, 30), "C1", None),  # the older day keeps what it had
        (SEGMENTS_AS_OF, "C1", "high"),
        (SEGMENTS_AS_OF, "C2", "low"),
        (SEGMENTS_AS_OF, "C3", "none"),
    ]


def test_publish_records_whether_the_day_was_partial(wh: Warehouse) -> None:
    day1, day2 = SEGMENTS_AS_OF, SEGMENTS_AS_OF + timedelta(days=1)
    build_segments(wh, day1)
    publish_tables(wh, day1, "run-1", "hash-a", partial=True)
    publish_tables(wh, day1, "run-2", "hash-a")
    build_segments(wh, day2)
    publish_tables(wh, day2, "run-3", "hash-a", partial=True)
    assert wh.rows(
        "select run_id, as_of, rows, partial from published.runs order by published_at, run_id"
    ) == [
        ("run-1", day1, 3, True),
        ("run-2", day1, 3, False),
        ("run-3", day2, 3, True),
    ]


def test_a_runs_table_from_before_partial_days_gets_the_column_false_for_earlier_publishes(
    wh: Warehouse,
) -> None:
    older = SEGMENTS_AS_OF - timedelta(days=1)
    wh.execute(
        "create table published.runs (run_id varchar, as_of date, config_hash varchar, code_version varchar, "
        "rows bigint, published_at timestamptz)"
    )
    wh.execute("insert into published.runs values ('old-run', ?, 'hash-0', '0.0.9', 7, now())", [older])
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a", partial=True)
    assert wh.rows("select run_id, as_of, config_hash, rows, partial from published.runs order by as_of") == [
        ("old-run", older, "hash-0", 7, False),
        ("run-1", SEGMENTS_AS_OF, "hash-a", 3, True),
    ]
    assert partial_days(wh) == [SEGMENTS_AS_OF]


def test_partial_days_are_the_days_whose_latest_publish_was_partial_oldest_first(wh: Warehouse) -> None:
    assert partial_days(wh) == []  # nothing published yet
    days = [SEGMENTS_AS_OF + timedelta(days=n) for n in range(4)]
    # (day, partial) in publish order: day 1 partial then complete, day 2 complete then partial again,
    # day 3 partial; day 0 complete
    for n, (day, partial) in enumerate(
        [
            (days[3], True),
            (days[1], True),
            (days[2], False),
            (days[0], False),
            (days[1], False),
            (days[2], True),
        ]
    ):
        build_segments(wh, day)
        publish_tables(wh, day, f"run-{n}", "hash-a", partial=partial)
    assert partial_days(wh) == [days[2], days[3]]


def test_partial_days_of_a_warehouse_published_before_the_column_existed(wh: Warehouse) -> None:
    wh.execute(
        "create table published.runs as select 'old-run' as run_id, ?::date as as_of", [SEGMENTS_AS_OF]
    )
    assert partial_days(wh) == []

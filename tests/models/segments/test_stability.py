"""Model tests of the stability report: segments/segment_pairs, scheme_pairs and segment_moves via compare_with_previous."""

from datetime import date

from tasks.segment.stability import SchemeStability, SizeChange, compare_with_previous
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

COLUMNS = "as_of date, customer_id varchar, rfm_segment varchar, cluster_id integer, rule_segments varchar"
DAY1, DAY2, DAY3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)


def day_rows(as_of: date, rows: list[tuple]) -> list[tuple]:
    return [(as_of, *row) for row in rows]


def test_moves_sizes_and_index_against_the_latest_published_day(wh: Warehouse) -> None:
    create(
        wh,
        "published.customer_segments",
        COLUMNS,
        # DAY1 is older than the latest published day before DAY3: not compared
        day_rows(DAY1, [("c0", "Lost", 9, None)])
        + day_rows(
            DAY2,
            [
                ("c0", "Champions", 0, None),  # gone on DAY3
                ("c1", "Champions", 0, "vip"),
                ("c2", "Champions", 1, None),
                ("c3", "Lost", 1, "vip,whale"),
            ],
        ),
    )
    create(
        wh,
        "segments.customer_segments",
        COLUMNS,
        day_rows(
            DAY3,
            [
                ("c1", "Champions", 0, "vip"),
                ("c2", "Loyal", 1, "vip"),
                ("c3", "Lost", 2, None),
                ("c4", None, 2, None),  # new on DAY3; no segment is '(none)'
            ],
        ),
    )
    previous_day, results = compare_with_previous(wh, DAY3)
    assert previous_day == DAY2
    assert wh.rows("select * from segments.segment_moves order by all") == [
        ("cluster", "c3", "1", "2"),
        ("rfm", "c2", "Champions", "Loyal"),
        ("rules", "c2", "(none)", "vip"),
        ("rules", "c3", "vip,whale", "(none)"),
    ]
    by_scheme = {r.scheme: r for r in results}
    assert list(by_scheme) == ["rfm", "cluster", "rules"]  # the columns both days have
    assert by_scheme["rfm"] == SchemeStability(
        "rfm",
        # c1..c3: Champions Champions Lost -> Champions Loyal Lost; agreeing pairs: 0 of 3
        0.0,
        3,
        1,
        [
            SizeChange("(none)", 0, 1, 1),
            SizeChange("Champions", 3, 1, -2),
            SizeChange("Lost", 1, 1, 0),
            SizeChange("Loyal", 0, 1, 1),
        ],
    )
    # c1 | c2 c3 -> c1 | c2 | c3: no pair of customers together on both days
    assert (by_scheme["cluster"].ari, by_scheme["cluster"].changed) == (0.0, 1)
    assert by_scheme["cluster"].sizes == [
        SizeChange("0", 2, 1, -1),
        SizeChange("1", 2, 1, -1),
        SizeChange("2", 0, 2, 2),
    ]
    assert wh.count("segments.segment_moves") == 4
    assert not wh.rows("select * from duckdb_tables() where table_name = '_segment_pairs'")


def test_no_published_day_before_means_no_report_and_no_moves(wh: Warehouse) -> None:
    create(wh, "segments.customer_segments", COLUMNS, day_rows(DAY3, [("c1", "Champions", 0, None)]))
    assert compare_with_previous(wh, DAY3) == (None, [])
    assert wh.columns("segments.segment_moves") == ["scheme", "customer_id", "previous", "current"]
    assert wh.count("segments.segment_moves") == 0

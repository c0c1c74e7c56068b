"""bench.backfill: one published day as hashes of its sorted rows, without run ids and timestamps."""

from datetime import date
from pathlib import Path

import duckdb

from bench.backfill import by_customer_note, compare_digests, customer_differences, published_digest

DAY = date(2026, 11, 21)
ROWS = [  # as_of, customer_id, cluster_id, churn_risk, segment
    (DAY, "C1", 0, 0.25, "Loyal"),
    (DAY, "C2", 1, None, "New"),
    (DAY, "C3", 2, 0.5, "Lost"),
    (date(2026, 11, 20), "C1", 3, 0.75, "Lost"),  # another day: not compared
]


def warehouse(path: Path, rows: list[tuple], run_id: str, identities: list[tuple] | None = None) -> Path:
    """A warehouse file holding published.customer_segments with these rows, inserted in the given order
    (and core.identity_map with these (source, source_id, customer_id) rows, when given)."""
    with duckdb.connect(str(path)) as con:
        if identities is not None:
            con.execute("create schema core")
            con.execute(
                "create table core.identity_map (source varchar, source_id varchar, customer_id varchar)"
            )
            con.executemany("insert into core.identity_map values (?, ?, ?)", identities)
        con.execute("create schema published")
        con.execute(
            "create table published.customer_segments (as_of date, customer_id varchar, cluster_id integer, "
            "churn_risk double, rfm_segment varchar, published_at timestamptz, run_id varchar)"
        )
        con.executemany(
            "insert into published.customer_segments values (?, ?, ?, ?, ?, now(), ?)",
            [(*row, run_id) for row in rows],
        )
    return path


def test_same_rows_in_another_order_and_run_are_equal(tmp_path: Path) -> None:
    full = published_digest(warehouse(tmp_path / "full.duckdb", ROWS, "run-a"), DAY)
    backfilled = published_digest(warehouse(tmp_path / "backfill.duckdb", ROWS[::-1], "run-b"), DAY)
    assert full["rows"] == 3
    assert set(full["columns"]) == {"records", "as_of", "churn_risk", "rfm_segment", "clusters"}
    assert compare_digests(backfilled, full) == {
        "equal": True,
        "rows": {"backfill": 3, "full": 3},
        "differing_columns": [],
        "same_ids": True,
        "same_cluster_labels": True,
    }


def test_a_changed_value_names_its_column(tmp_path: Path) -> None:
    changed = [ROWS[0], (DAY, "C2", 1, 0.0, "New"), *ROWS[2:]]  # a null churn_risk became 0.0
    full = published_digest(warehouse(tmp_path / "full.duckdb", ROWS, "run-a"), DAY)
    backfilled = published_digest(warehouse(tmp_path / "backfill.duckdb", changed, "run-a"), DAY)
    assert compare_digests(backfilled, full) == {
        "equal": False,
        "rows": {"backfill": 3, "full": 3},
        "differing_columns": ["churn_risk"],
        "same_ids": True,
        "same_cluster_labels": True,
    }


def test_a_missing_customer_is_a_difference(tmp_path: Path) -> None:
    full = published_digest(warehouse(tmp_path / "full.duckdb", ROWS, "run-a"), DAY)
    backfilled = published_digest(warehouse(tmp_path / "backfill.duckdb", ROWS[1:], "run-a"), DAY)
    compared = compare_digests(backfilled, full)
    assert not compared["equal"]
    assert compared["rows"] == {"backfill": 2, "full": 3}


IDENTITIES = [("crm", "m1", "C1"), ("game", "g1", "C1"), ("crm", "m2", "C2"), ("crm", "m3", "C3")]


def renamed(rows: list[tuple], names: dict[str, str]) -> list[tuple]:
    return [(row[0], names.get(row[1], row[1]), *row[2:]) for row in rows]


def test_customers_compare_by_their_records_not_their_ids(tmp_path: Path) -> None:
    names = {"C1": "C9", "C3": "C1"}  # the backfill named two customers otherwise
    ids = [(source, record, names.get(c, c)) for source, record, c in IDENTITIES]
    full = published_digest(warehouse(tmp_path / "full.duckdb", ROWS, "run-a", IDENTITIES), DAY)
    backfilled = published_digest(
        warehouse(tmp_path / "backfill.duckdb", renamed(ROWS, names), "run-b", ids), DAY
    )
    assert compare_digests(backfilled, full) == {
        "equal": True,
        "rows": {"backfill": 3, "full": 3},
        "differing_columns": [],
        "same_ids": False,
        "same_cluster_labels": True,
    }


def test_another_clustering_differs_in_records(tmp_path: Path) -> None:
    split = [("crm", "m1", "C1"), ("game", "g1", "C4"), *IDENTITIES[2:]]  # g1 not merged into C1
    full = published_digest(warehouse(tmp_path / "full.duckdb", ROWS, "run-a", IDENTITIES), DAY)
    backfilled = published_digest(warehouse(tmp_path / "backfill.duckdb", ROWS, "run-a", split), DAY)
    assert compare_digests(backfilled, full) == {
        "equal": False,
        "rows": {"backfill": 3, "full": 3},
        "differing_columns": ["clusters", "records"],  # the clusters name their customers by their records
        "same_ids": True,
        "same_cluster_labels": False,
    }


def test_clusters_compare_as_a_partition_their_labels_apart(tmp_path: Path) -> None:
    relabelled = [(d, c, {0: 5, 1: 6, 2: 7, 3: 3}[k], r, seg) for d, c, k, r, seg in ROWS]  # same groups
    merged = [(d, c, 0 if c in ("C1", "C2") else k, r, seg) for d, c, k, r, seg in ROWS]  # C1 and C2 together
    full = published_digest(warehouse(tmp_path / "full.duckdb", ROWS, "run-a", IDENTITIES), DAY)
    same = published_digest(warehouse(tmp_path / "same.duckdb", relabelled, "run-b", IDENTITIES), DAY)
    other = published_digest(warehouse(tmp_path / "other.duckdb", merged, "run-b", IDENTITIES), DAY)
    assert compare_digests(same, full) == {
        "equal": True,
        "rows": {"backfill": 3, "full": 3},
        "differing_columns": [],
        "same_ids": True,
        "same_cluster_labels": False,
    }
    assert compare_digests(other, full) == {
        "equal": False,
        "rows": {"backfill": 3, "full": 3},
        "differing_columns": ["clusters"],
        "same_ids": True,
        "same_cluster_labels": False,
    }


def test_customer_by_customer_a_merge_more_is_one_customer_and_the_values_apart(tmp_path: Path) -> None:
    """The backfill merged C3's record into C2 (one customer fewer) and gave C1 another churn risk: the
    ordered digests differ in every column, the customer-by-customer counts say what differs."""
    merged = [("crm", "m1", "C1"), ("game", "g1", "C1"), ("crm", "m2", "C2"), ("crm", "m3", "C2")]
    backfill_rows = [(DAY, "C1", 0, 0.3, "Loyal"), (DAY, "C2", 1, None, "New")]
    full_path = warehouse(tmp_path / "full.duckdb", ROWS, "run-a", IDENTITIES)
    backfill_path = warehouse(tmp_path / "backfill.duckdb", backfill_rows, "run-b", merged)
    compared = compare_digests(published_digest(backfill_path, DAY), published_digest(full_path, DAY))
    assert compared["differing_columns"] == ["as_of", "churn_risk", "clusters", "records", "rfm_segment"]
    assert customer_differences(backfill_path, full_path, DAY) == {
        "customers": {"backfill": 2, "full": 3, "matched": 1, "only_backfill": 1, "only_full": 2},
        "columns": {"churn_risk": 1},
    }
    assert by_customer_note(customer_differences(backfill_path, full_path, DAY)) == (
        " Customer by customer (named by their records): 1 in both, 1 only in the backfill, 2 only in the full "
        "refresh (clustered otherwise); of those in both, how many carry another value: churn_risk 1."
    )


def test_customer_by_customer_without_identity_maps_matches_by_customer_id(tmp_path: Path) -> None:
    full_path = warehouse(tmp_path / "full.duckdb", ROWS, "run-a")
    backfill_path = warehouse(tmp_path / "backfill.duckdb", ROWS[::-1], "run-b")
    assert customer_differences(backfill_path, full_path, DAY) == {
        "customers": {"backfill": 3, "full": 3, "matched": 3, "only_backfill": 0, "only_full": 0},
        "columns": {},
    }

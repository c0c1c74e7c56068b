"""The record graph of dedupe: exact links through shared keys, connected components, the rule that merged each record."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from tasks.dedupe import cluster_records
from tests.models.helpers import T0, observations


def clusters_of(result: pl.DataFrame) -> list[list[str]]:
    """The partition as sorted lists of 'source:id', ordered by their first member."""
    groups: dict[int, list[str]] = {}
    for row in result.iter_rows(named=True):
        groups.setdefault(row["component"], []).append(f"{row['record_source']}:{row['record_id']}")
    return sorted(sorted(g) for g in groups.values())


def rules_of(result: pl.DataFrame) -> list[tuple]:
    return sorted(result.select("record_source", "record_id", "match_rule", "first_seen").iter_rows())


def test_cluster_records_merges_transitively_and_names_the_rule() -> None:
    result, overshared = cluster_records(
        observations(
            [
                ("crm", "a", "a@x.com", None, None, T0 + timedelta(days=1)),
                ("crm", "a", None, None, None, T0),  # a second observation, earlier
                ("crm", "b", "a@x.com", "+8613800138001", None, T0 + timedelta(days=2)),
                ("pay", "c", None, "+8613800138001", None, T0 + timedelta(days=3)),
                ("game", "d", None, None, "dev1", T0 + timedelta(days=4)),
                ("game", "e", None, None, "dev1", None),
                ("game", "e", None, None, "dev1", T0),  # one undated observation makes the record undated
                ("web", "f", None, None, None, T0 + timedelta(days=5)),
            ]
        ),
        max_key_records=20,
    )
    assert overshared == []
    assert result.columns == ["record_source", "record_id", "component", "first_seen", "match_rule"]
    assert clusters_of(result) == [["crm:a", "crm:b", "pay:c"], ["game:d", "game:e"], ["web:f"]]
    assert rules_of(result) == [
        ("crm", "a", "exact:email", T0),
        ("crm", "b", "exact:email", T0 + timedelta(days=2)),  # shares email and phone: email wins
        ("game", "d", "exact:device_id", T0 + timedelta(days=4)),
        ("game", "e", "exact:device_id", None),
        ("pay", "c", "exact:phone", T0 + timedelta(days=3)),
        ("web", "f", "singleton", T0 + timedelta(days=5)),
    ]


def test_cluster_records_phone_is_preferred_over_device_id() -> None:
    result, _ = cluster_records(
        observations(
            [
                ("crm", "a", None, "+8613800138001", "dev1", T0),
                ("crm", "b", None, "+8613800138001", "dev1", T0),
                ("crm", "c", None, None, "dev1", T0),
            ]
        ),
        max_key_records=20,
    )
    assert clusters_of(result) == [["crm:a", "crm:b", "crm:c"]]
    assert rules_of(result) == [
        ("crm", "a", "exact:phone", T0),
        ("crm", "b", "exact:phone", T0),
        ("crm", "c", "exact:device_id", T0),
    ]


def test_cluster_records_does_not_match_on_an_overshared_key() -> None:
    result, overshared = cluster_records(
        observations(
            [
                # a family phone on three records (over the limit of 2): not used
                ("crm", "x", None, "+8613900139000", None, T0),
                ("crm", "y", None, "+8613900139000", None, T0),
                ("crm", "z", "z@x.com", "+8613900139000", None, T0),
                # a device on exactly two records (at the limit): used
                ("game", "p", None, None, "dev7", T0),
                ("game", "q", "z@x.com", None, "dev7", T0),
            ]
        ),
        max_key_records=2,
    )
    assert overshared == ["phone_norm=+8613900139000 (3 records)"]
    assert clusters_of(result) == [["crm:x"], ["crm:y"], ["crm:z", "game:p", "game:q"]]
    assert rules_of(result) == [
        ("crm", "x", "singleton", T0),
        ("crm", "y", "singleton", T0),
        ("crm", "z", "exact:email", T0),
        ("game", "p", "exact:device_id", T0),
        ("game", "q", "exact:email", T0),
    ]


def test_cluster_records_reports_overshared_keys_in_a_stable_order() -> None:
    # ten keys, each on three records; written in reverse so that insertion order is not the expected order
    rows = [
        ("crm", f"r{k}_{i}", f"e{k}@x.com", None, None, T0) for k in reversed(range(10)) for i in range(3)
    ]
    _, overshared = cluster_records(observations(rows), max_key_records=2)
    assert overshared == [f"email_norm=e{k}@x.com (3 records)" for k in range(10)]


def test_cluster_records_without_any_shared_key() -> None:
    result, overshared = cluster_records(
        observations([("crm", "a", "a@x.com", None, None, T0), ("crm", "b", None, None, None, None)]),
        max_key_records=20,
    )
    assert overshared == []
    assert clusters_of(result) == [["crm:a"], ["crm:b"]]
    assert rules_of(result) == [("crm", "a", "singleton", T0), ("crm", "b", "singleton", None)]

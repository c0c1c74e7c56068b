"""The record graph of dedupe: exact links through shared keys, connected components, the rule that merged each record."""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from tasks.dedupe.graph import link_records
from tests.models.helpers import T0, observations


def clusters_of(result: pl.DataFrame) -> list[list[str]]:
    """The partition as sorted lists of 'source:id', ordered by their first member."""
    groups: dict[int, list[str]] = {}
    for row in result.iter_rows(named=True):
        groups.setdefault(row["component"], []).append(f"{row['record_source']}:{row['record_id']}")
    return sorted(sorted(g) for g in groups.values())


def rules_of(result: pl.DataFrame) -> list[tuple]:
    return sorted(result.select("record_source", "record_id", "match_rule", "first_seen").iter_rows())


def test_link_records_merges_transitively_and_names_the_rule() -> None:
    clustered = link_records(
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
    assert clustered.overshared == []
    assert clustered.records.columns == [
        "record_source",
        "record_id",
        "component",
        "first_seen",
        "match_rule",
        "match_score",
    ]
    assert clusters_of(clustered.records) == [["crm:a", "crm:b", "pay:c"], ["game:d", "game:e"], ["web:f"]]
    assert rules_of(clustered.records) == [
        ("crm", "a", "exact:email", T0),
        ("crm", "b", "exact:email", T0 + timedelta(days=2)),  # shares email and phone: email wins
        ("game", "d", "exact:device_id", T0 + timedelta(days=4)),
        ("game", "e", "exact:device_id", None),
        ("pay", "c", "exact:phone", T0 + timedelta(days=3)),
        ("web", "f", "singleton", T0 + timedelta(days=5)),
    ]


def test_link_records_phone_is_preferred_over_device_id() -> None:
    result = link_records(
        observations(
            [
                ("crm", "a", None, "+8613800138001", "dev1", T0),
                ("crm", "b", None, "+8613800138001", "dev1", T0),
                ("crm", "c", None, None, "dev1", T0),
            ]
        ),
        max_key_records=20,
    ).records
    assert clusters_of(result) == [["crm:a", "crm:b", "crm:c"]]
    assert rules_of(result) == [
        ("crm", "a", "exact:phone", T0),
        ("crm", "b", "exact:phone", T0),
        ("crm", "c", "exact:device_id", T0),
    ]


def test_link_records_does_not_match_on_an_overshared_key() -> None:
    clustered = link_records(
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
    assert clustered.overshared == ["phone_norm=+8613900139000 (3 records)"]
    assert clusters_of(clustered.records) == [["crm:x"], ["crm:y"], ["crm:z", "game:p", "game:q"]]
    assert rules_of(clustered.records) == [
        ("crm", "x", "singleton", T0),
        ("crm", "y", "singleton", T0),
        ("crm", "z", "exact:email", T0),
        ("game", "p", "exact:device_id", T0),
        ("game", "q", "exact:email", T0),
    ]


def test_link_records_reports_overshared_keys_in_a_stable_order() -> None:
    # ten keys, each on three records; written in reverse so that insertion order is not the expected order
    rows = [
        ("crm", f"r{k}_{i}", f"e{k}@x.com", None, None, T0) for k in reversed(range(10)) for i in range(3)
    ]
    overshared = link_records(observations(rows), max_key_records=2).overshared
    assert overshared == [f"email_norm=e{k}@x.com (3 records)" for k in range(10)]


def test_link_records_without_any_shared_key() -> None:
    clustered = link_records(
        observations([("crm", "a", "a@x.com", None, None, T0), ("crm", "b", None, None, None, None)]),
        max_key_records=20,
    )
    assert clustered.overshared == []
    assert clusters_of(clustered.records) == [["crm:a"], ["crm:b"]]
    assert rules_of(clustered.records) == [("crm", "a", "singleton", T0), ("crm", "b", "singleton", None)]


# ---------------------------------------------------------------------------------------------------------
# The giant-cluster guard
# ---------------------------------------------------------------------------------------------------------


def guard_observations(rows: list[tuple]) -> pl.DataFrame:
    """Observations with an email and a phone only (the other match keys count as null)."""
    return pl.DataFrame(
        rows,
        schema={
            "record_source": pl.String,
            "record_id": pl.String,
            "email_norm": pl.String,
            "phone_norm": pl.String,
            "first_seen": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


def pair(a: str, b: str, probability: float) -> tuple:
    return ("crm", a, "crm", b, probability, "probabilistic:name_dob")


PAIR_SCHEMA = ["source_a", "id_a", "source_b", "id_b", "match_probability", "rule"]


def partition(records: pl.DataFrame) -> list[list[str]]:
    groups: dict[int, list[str]] = {}
    for row in records.iter_rows(named=True):
        groups.setdefault(row["component"], []).append(row["record_id"])
    return sorted(sorted(g) for g in groups.values())


def test_guard_splits_a_large_cluster_without_its_probabilistic_links() -> None:
    obs = guard_observations(
        [
            ("crm", "a", None, "+861", None),
            ("crm", "b", None, "+861", None),
            ("crm", "c", None, "+862", None),
            ("crm", "d", None, "+862", None),
            ("crm", "e", None, None, None),
        ]
    )
    links = pl.DataFrame([pair("b", "c", 0.95), pair("d", "e", 0.97)], schema=PAIR_SCHEMA, orient="row")
    merged = link_records(obs, 20, links, max_cluster_size=5)
    assert partition(merged.records) == [["a", "b", "c", "d", "e"]]
    assert merged.suspicious == []
    assert merged.records.sort("record_id").select("match_rule", "match_score").rows() == [
        ("exact:phone", 1.0),
        ("exact:phone", 1.0),
        ("exact:phone", 1.0),
        ("exact:phone", 1.0),
        ("probabilistic:name_dob", 0.97),
    ]
    guarded = link_records(obs, 20, links, max_cluster_size=4)
    assert partition(guarded.records) == [["a", "b"], ["c", "d"], ["e"]]
    assert guarded.suspicious == [
        "cluster of 5 records: split into 3 clusters after dropping 2 probabilistic links; "
        "most shared keys: phone_norm=+861 (2 records), phone_norm=+862 (2 records)"
    ]
    assert guarded.records.sort("record_id").select("match_rule", "match_score").rows() == [
        ("exact:phone", 1.0),
        ("exact:phone", 1.0),
        ("exact:phone", 1.0),
        ("exact:phone", 1.0),
        ("singleton", None),
    ]


def test_guard_keeps_records_apart_when_exact_links_alone_make_a_giant() -> None:
    # a shared family email (below max_key_records) chains four records; one more is linked to them
    obs = guard_observations(
        [
            ("crm", "r1", "family@x.com", None, None),
            ("crm", "r2", "family@x.com", None, None),
            ("crm", "r3", "family@x.com", None, None),
            ("crm", "r4", "family@x.com", "+863", None),
            ("crm", "r5", None, "+863", None),
            ("crm", "s1", None, "+864", None),
            ("crm", "s2", None, "+864", None),
        ]
    )
    guarded = link_records(obs, 20, None, max_cluster_size=3)
    assert partition(guarded.records) == [["r1"], ["r2"], ["r3"], ["r4"], ["r5"], ["s1", "s2"]]
    assert guarded.suspicious == [
        "cluster of 5 records: all 5 records kept apart after dropping 0 probabilistic links; "
        "most shared keys: email_norm=family@x.com (4 records), phone_norm=+863 (2 records)"
    ]
    assert guarded.records.filter(pl.col("match_rule") != "singleton")["record_id"].sort().to_list() == [
        "s1",
        "s2",
    ]

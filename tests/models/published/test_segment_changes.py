"""published.segment_changes compares only the customers whose segment columns moved, with the result of
comparing every customer's memberships."""

import random
from datetime import date

from tasks.publish.tables import publish_changes
from tasks.shared.warehouse import Warehouse

DAY, BEFORE = date(2026, 11, 22), date(2026, 11, 21)
COLUMNS = (
    "as_of date, customer_id varchar, rfm_segment varchar, rfm_cn_class varchar, value_tier varchar, "
    "lifecycle_stage varchar, rule_segments varchar, cluster_id integer, recency_days integer"
)
CHOICES = {
    "rfm_segment": ["Champions", "Loyal", "At Risk", None],
    "rfm_cn_class": ["重要价值客户", "一般挽留客户", None],
    "value_tier": ["high", "medium", "low"],
    "lifecycle_stage": ["new", "active", "sleeping", "churned"],
    "rule_segments": ["whales", "whales,night_owls", "night_owls,whales", None],
    "cluster_id": [1, 2, 3, None],
}


def customer_row(rng: random.Random, day: date, customer: str) -> tuple:
    """A published row with random segments (and a column that is no segment: it changes every day)."""
    return (day, customer, *(rng.choice(values) for values in CHOICES.values()), rng.randrange(400))


def naive_changes(wh: Warehouse) -> set[tuple]:
    """Every customer's memberships of both days compared, the definition publish_changes must keep."""
    everyone = {"segments": "published.customer_segments"}
    wh.build("_all_now", "published/segment_memberships", {"as_of": DAY}, temp=True, identifiers=everyone)
    wh.build(
        "_all_before", "published/segment_memberships", {"as_of": BEFORE}, temp=True, identifiers=everyone
    )
    entered = wh.rows(
        "select scheme, segment, customer_id, 'entered' from _all_now "
        "except select scheme, segment, customer_id, 'entered' from _all_before"
    )
    exited = wh.rows(
        "select scheme, segment, customer_id, 'exited' from _all_before "
        "except select scheme, segment, customer_id, 'exited' from _all_now"
    )
    return set(entered) | set(exited)


def test_changes_of_the_moved_customers_equal_the_comparison_of_everyone(wh: Warehouse) -> None:
    rng = random.Random(5)
    rows = []
    for n in range(600):
        customer = f"C{n:04d}"
        before = customer_row(rng, BEFORE, customer)
        if n % 10 == 0:  # gone the next day (merged away)
            rows.append(before)
            continue
        # a third moved to new segments; the others keep theirs, only the recency moved on
        now = customer_row(rng, DAY, customer) if n % 3 == 0 else (DAY, *before[1:-1], before[-1] + 1)
        rows += [before, now]
    rows += [customer_row(rng, DAY, f"N{n:03d}") for n in range(40)]  # new the next day
    wh.execute("create schema if not exists published")
    wh.execute(f"create table published.customer_segments ({COLUMNS})")
    wh.con.executemany(f"insert into published.customer_segments values ({', '.join('?' * 9)})", rows)

    expected = naive_changes(wh)
    inserted = publish_changes(wh, DAY)

    published = set(
        wh.rows(
            "select scheme, segment, customer_id, change from published.segment_changes where as_of = ?",
            [DAY],
        )
    )
    assert published == expected
    assert inserted == len(expected)
    assert {change for *_, change in expected} == {"entered", "exited"}
    # "whales,night_owls" and "night_owls,whales" are the same memberships: no change between them
    assert wh.scalar("select count(distinct previous_as_of) from published.segment_changes") == 1
    assert (
        wh.scalar("select count(*) from duckdb_tables() where table_name in ('_moved', '_memberships_now')")
        == 0
    )


def test_the_first_publish_has_every_membership_entered(wh: Warehouse) -> None:
    rng = random.Random(9)
    wh.execute("create schema if not exists published")
    wh.execute(f"create table published.customer_segments ({COLUMNS})")
    rows = [customer_row(rng, DAY, f"C{n:03d}") for n in range(50)]
    wh.con.executemany(f"insert into published.customer_segments values ({', '.join('?' * 9)})", rows)
    memberships = wh.build(
        "_all",
        "published/segment_memberships",
        {"as_of": DAY},
        temp=True,
        identifiers={"segments": "published.customer_segments"},
    )

    assert publish_changes(wh, DAY) == memberships
    assert wh.rows("select distinct change, previous_as_of from published.segment_changes") == [
        ("entered", None)
    ]

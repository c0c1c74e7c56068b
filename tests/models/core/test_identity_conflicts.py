"""core.identity_conflicts: customers whose records disagree on sex or on a national id (more than a typo apart) are
kept and summed up, brought up to date for the customers a run recomputes."""

from tasks.dedupe.golden import keep_conflicts
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

RECORDS = [
    # (source, source_id, gender, national_id)
    ("crm", "a1", "M", "110101199001011234"),
    ("crm", "a2", "女", None),  # a household: a man and a woman merged
    ("crm", "b1", "F", "110101199001011234"),
    ("app", "b2", "female", "110101199001011243"),  # a typo of two digits: one person
    ("crm", "c1", None, "310101197901016314"),
    ("app", "c2", None, "320102196902239521"),  # a recycled phone number joined two people
    ("crm", "d1", "M", None),  # one record: nothing to disagree with
]
IDENTITY = [("crm", "a1", "A"), ("crm", "a2", "A"), ("crm", "b1", "B"), ("app", "b2", "B")]
IDENTITY += [("crm", "c1", "C"), ("app", "c2", "C"), ("crm", "d1", "D")]


def build(wh: Warehouse, records: list[tuple], identity: list[tuple]) -> None:
    create(
        wh,
        "core.customer_records",
        "source varchar, source_id varchar, gender varchar, national_id varchar",
        records,
    )
    create(wh, "core.identity_map", "source varchar, source_id varchar, customer_id varchar", identity)
    create(wh, "core.customers", "customer_id varchar", sorted({(c,) for _, _, c in identity}))


def test_customers_whose_records_disagree_on_sex_or_national_id(wh: Warehouse) -> None:
    build(wh, RECORDS, IDENTITY)
    keep_conflicts(wh, incremental=False)
    assert wh.rows("select customer_id, field from core.identity_conflicts order by all") == [
        ("A", "gender"),
        ("C", "national_id"),
    ]
    assert wh.select("core/identity_conflicts_summary") == [
        {"field": "gender", "customers": 1, "example": "A (crm:a1 M, crm:a2 女)"},
        {
            "field": "national_id",
            "customers": 1,
            "example": "C (app:c2, crm:c1)",
        },  # no id shown: it goes to reports
    ]


def test_a_run_checks_again_the_customers_it_recomputes_and_forgets_those_merged_away(wh: Warehouse) -> None:
    build(wh, RECORDS, IDENTITY)
    keep_conflicts(wh, incremental=False)
    # a2's sex is corrected, and D is merged into C: the run recomputes A and C
    records = [(s, i, "M" if i == "a2" else g, n) for s, i, g, n in RECORDS]
    identity = [(s, i, "C" if c == "D" else c) for s, i, c in IDENTITY]
    build(wh, records, identity)
    create(
        wh,
        "_golden_identity",
        "source varchar, source_id varchar, customer_id varchar",
        [row for row in identity if row[2] in ("A", "C")],
        temp=True,
    )
    keep_conflicts(wh, incremental=True)
    assert wh.rows("select customer_id, field from core.identity_conflicts order by all") == [
        ("C", "national_id")
    ]
    incremental = wh.rows("select * from core.identity_conflicts order by all")
    keep_conflicts(wh, incremental=False)
    assert wh.rows("select * from core.identity_conflicts order by all") == incremental

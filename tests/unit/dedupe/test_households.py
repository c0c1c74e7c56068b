"""Key values two people hold link nobody (tasks/dedupe/households.py), in a full run and a touched one alike.

Hand-built staging rows (the helpers of test_ids): a husband and his wife with the family's phone, and the
husband's second record with the phone and his own e-mail. After every incremental run, the same day resolved
from scratch gives the same identity map (test_touched.resolved).
"""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tasks.dedupe import dedupe_all
from tasks.dedupe.explain import explain_pair, render_explanation
from tasks.dedupe.ids import customer_id_for
from tasks.extract import create_tables, extract_all
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse
from tests.unit.dedupe.test_ids import PHONE, config, customer, stage, ts
from tests.unit.dedupe.test_touched import identity, resolved

HUSBAND = {"full_name": "王伟", "gender": "M", "birth_date": date(1980, 3, 1)}
WIFE = {"full_name": "王丽", "gender": "F", "birth_date": date(1982, 7, 9)}
FAMILY_PHONE = ("phone_norm", f"+86{PHONE}")
M1, M2 = customer_id_for("crm:m1"), customer_id_for("crm:m2")
DAY1, DAY2, DAY3 = date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 3)


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    with Warehouse(":memory:") as warehouse:
        create_tables(warehouse)
        yield warehouse


def family(wh: Warehouse) -> None:
    customer(wh, "crm", "m1", date(2025, 12, 1), phone=PHONE, email="wei@x.com", **HUSBAND)
    customer(wh, "crm", "m2", date(2025, 12, 2), phone=PHONE, **WIFE)
    customer(wh, "web", "w1", date(2025, 12, 3), phone=PHONE, email="wei@x.com", **HUSBAND)


def held(wh: Warehouse) -> list[tuple]:
    return wh.rows("select key, value, records from core.identity_two_people order by all")


def test_a_phone_two_people_hold_links_nobody_and_its_owner_alone_again_links(wh: Warehouse) -> None:
    family(wh)
    first = dedupe_all(wh, config(), DAY1, "run-1")
    assert first.two_people_keys == 1 and held(wh) == [(*FAMILY_PHONE, 3)]
    # the husband's two records are one customer through his e-mail; the wife is a customer of her own
    assert identity(wh) == [
        ("crm", "m1", M1, "exact:email", 1.0, 2),
        ("crm", "m2", M2, "singleton", None, 1),
        ("web", "w1", M1, "exact:email", 1.0, 2),
    ]
    # explain says what the two share and why it links nobody
    explanation = explain_pair(wh, config(), ("crm", "m1"), ("crm", "m2"))
    assert explanation.households == (f"phone_norm=+86{PHONE}",)
    assert explanation.conflicting == ("gender", "birth_date")
    assert render_explanation(explanation).endswith(
        f"they share phone_norm=+86{PHONE}, which records of two people hold: a household's, not linked on "
        "(dedupe.person_conflicts)\n"
    )
    # his own two records hold it too: it links them neither (his e-mail does)
    assert explain_pair(wh, config(), ("crm", "m1"), ("web", "w1")).households == (f"phone_norm=+86{PHONE}",)

    # the wife gets a phone of her own: the family phone is the husband's alone and links his records again
    customer(wh, "crm", "m2", date(2025, 12, 2), phone="13900000002", **WIFE)
    second, kept, scratch = resolved(wh, DAY2)
    assert second.graph_fallback is None and second.two_people_keys == 0 and held(wh) == []
    assert (
        kept
        == scratch
        == [
            ("crm", "m1", M1, "exact:email", 1.0, 2),
            ("crm", "m2", M2, "singleton", None, 1),
            ("web", "w1", M1, "exact:email", 1.0, 2),
        ]
    )
    assert wh.rows("select count(*) from core.identity_map where match_rule = 'exact:phone'") == [(0,)]

    # her new record with the family phone: two people hold it again, and her records stay apart from his
    customer(wh, "web", "w2", DAY3, phone=PHONE, **WIFE)
    third, kept, scratch = resolved(wh, DAY3)
    assert third.graph_fallback is None and third.touched_records == 3  # w2, m1 and w1: not m2
    assert third.two_people_keys == 1 and held(wh) == [(*FAMILY_PHONE, 3)]
    assert kept == scratch
    assert {row[1]: row[2] for row in kept} == {"m1": M1, "w1": M1, "m2": M2, "w2": customer_id_for("web:w2")}


def test_a_national_id_is_one_persons_whatever_the_records_say(wh: Warehouse) -> None:
    customer(wh, "crm", "m1", date(2025, 12, 1), national_id="110101198003010011", **HUSBAND)
    customer(wh, "crm", "m2", date(2025, 12, 2), national_id="110101198003010011", **WIFE)
    result = dedupe_all(wh, config(), DAY1, "run-1")
    assert result.two_people_keys == 0 and held(wh) == []
    assert {row[2] for row in identity(wh)} == {M1}


def test_without_person_conflicts_a_shared_phone_links_everyone_and_the_kept_graph_is_not_reused(
    wh: Warehouse,
) -> None:
    family(wh)
    # a payment that names only the family phone: whose it is, nobody can say
    payment = {"source": "payments", "txn_id": "t1", "phone": PHONE, "ts": ts(DAY1), "amount": 10}
    stage(wh, "transactions", payment | {"_file": "payments/p.csv", "_row": 1})
    paid = ("payments", f"phone:+86{PHONE}")
    dedupe_all(wh, config(), DAY1, "run-1")
    assert [row[2:] for row in identity(wh) if row[:2] == paid] == [
        (customer_id_for(":".join(paid)), "singleton", None, 1)
    ]
    off = PipelineConfig.model_validate(
        config().model_dump() | {"dedupe": config().dedupe.model_dump() | {"person_conflicts": False}}
    )
    result = dedupe_all(wh, off, DAY2, "run-2")
    assert result.graph_fallback == "record graph kept with other settings"
    assert result.two_people_keys == 0 and held(wh) == []
    assert {row[2] for row in identity(wh)} == {M1} and len(identity(wh)) == 4


def test_a_holders_name_and_sex_corrected_makes_the_phone_one_persons_again(wh: Warehouse) -> None:
    family(wh)
    dedupe_all(wh, config(), DAY1, "run-1")
    # m2 was the husband all along, entered under the wife's name: corrected, nothing else changes
    customer(wh, "crm", "m2", date(2025, 12, 2), phone=PHONE, **HUSBAND)
    second, kept, scratch = resolved(wh, DAY2)
    assert second.graph_fallback is None and second.touched_records == 3
    assert second.two_people_keys == 0 and held(wh) == []
    assert kept == scratch and {row[2] for row in kept} == {M1}


def test_names_the_matcher_reads_as_one_are_no_two_people(wh: Warehouse) -> None:
    # the given and family name the other way round, and the same name in Han characters and in pinyin: the
    # matcher's given-name level agrees, so a sex that differs (a typo) makes no household of them
    customer(
        wh, "crm", "m1", date(2025, 12, 1), phone=PHONE, given_name="Wei", family_name="Zhang", gender="M"
    )
    customer(
        wh, "web", "w1", date(2025, 12, 2), phone=PHONE, given_name="Zhang", family_name="Wei", gender="F"
    )
    customer(wh, "web", "w2", date(2025, 12, 3), phone=PHONE, full_name="张伟", gender="F")
    result = dedupe_all(wh, config(), DAY1, "run-1")
    assert result.two_people_keys == 0 and held(wh) == []
    assert {row[2] for row in identity(wh)} == {M1}


def test_without_the_matcher_a_phone_two_people_hold_links_nobody_too(wh: Warehouse) -> None:
    family(wh)
    matcherless = PipelineConfig.model_validate(
        config().model_dump() | {"dedupe": config().dedupe.model_dump() | {"probabilistic": False}}
    )
    result = dedupe_all(wh, matcherless, DAY1, "run-1")
    assert result.matcher_mode == "off" and result.two_people_keys == 1 and held(wh) == [(*FAMILY_PHONE, 3)]
    assert {row[1]: row[2] for row in identity(wh)} == {"m1": M1, "w1": M1, "m2": M2}


def test_an_age_set_as_a_person_conflict_makes_a_shared_phone_two_peoples(tmp_path: Path) -> None:
    # a register without birth dates: a father and his son of one name's family, one sex, one landline
    (tmp_path / "crm.csv").write_text(
        "id,name,sex,age,phone\na1,Tom Smith,M,55,01131234567\na2,Bob Smith,M,25,01131234567\n"
        "a3,Tom Smith,M,55,01131234567\n",
        encoding="utf-8",
    )
    crm = {"name": "crm", "kind": "customers", "format": "csv", "path": str(tmp_path / "crm.csv")}
    crm |= {"columns": {"source_id": "id", "full_name": "name", "gender": "sex", "phone": "phone"}}
    age = {"name": "age", "kind": "numeric", "abs_tolerance": [1, 6]}
    linked = {}
    for conflict in (False, True):
        settings = {"default_region": "GB", "comparisons": [{**age, "person_conflict": conflict}]}
        pipeline = PipelineConfig.model_validate(
            {
                "warehouse": str(tmp_path / f"{conflict}.duckdb"),
                "sources": [{**crm, "match_columns": {"age": "age"}}],
                "dedupe": settings,
            }
        )
        with Warehouse.open(pipeline) as wh:
            extract_all(wh, pipeline, "run-1")
            outcome = dedupe_all(wh, pipeline, DAY1, "run-1")
            linked[conflict] = (outcome.two_people_keys, held(wh), identity_rules(wh))
    # only the age tells them apart: without it, one customer on the phone
    assert linked[False] == (0, [], [("a1", "exact:phone"), ("a2", "exact:phone"), ("a3", "exact:phone")])
    # with it, the phone is the household's and links nobody: nothing else links the father's two records here
    assert linked[True] == (
        1,
        [("phone_norm", "+441131234567", 3)],
        [("a1", "singleton"), ("a2", "singleton"), ("a3", "singleton")],
    )


def identity_rules(wh: Warehouse) -> list[tuple]:
    return wh.rows("select source_id, match_rule from core.identity_map order by source_id")

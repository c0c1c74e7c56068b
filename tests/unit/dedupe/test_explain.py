"""Explained links (tasks/dedupe/explain.py): the match evidence a dedupe run stores, and explain_pair."""

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from rich.cells import cell_len as cells
from rich.cells import set_cell_size as fit

from tasks.dedupe import customer_match_records, dedupe_all, probabilistic_links
from tasks.dedupe.comparisons import build_comparisons
from tasks.dedupe.explain import (
    NO_EVIDENCE,
    Step,
    comparison_changes,
    explain_pair,
    parse_record,
    render_explanation,
    waterfall_lines,
)
from tasks.dedupe.levels import IMPLIED as IMPLIED_LEVEL
from tasks.dedupe.levels import INITIAL, comparison_levels
from tasks.dedupe.preparation import prepare_records
from tasks.dedupe.scoring import MatchSettings, score_pairs
from tasks.dedupe.training import term_frequencies
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse
from tests.unit.dedupe.match_world import AS_OF, build_world, world_config

COMPARISONS = {c.name: c for c in build_comparisons()}
TOP = {name: c.levels - 1 for name, c in COMPARISONS.items()}
RECORDS = 42  # 40 members and 2 web records
MISSING = "missing on a side"
IMPLIED = "implied by a finer location that agrees"


@pytest.fixture(scope="module")
def wh() -> Iterator[Warehouse]:
    """The world of match_world.py after one dedupe run (read-only for the tests)."""
    with Warehouse(":memory:") as warehouse:
        build_world(warehouse, world_config())
        yield warehouse


def parameter(wh: Warehouse, comparison: str, level: int | None, column: str = "m") -> float:
    return wh.scalar(
        f"select {column} from core.match_parameters where comparison = ? and level is not distinct from ?",
        [comparison, level],
    )


def evidence(wh: Warehouse, id_a: str, id_b: str) -> list[tuple]:
    return wh.rows(
        "select comparison, level, label, term_frequency_adjusted, match_weight from core.match_evidence "
        "where id_a = ? and id_b = ? order by position",
        [id_a, id_b],
    )


def test_the_run_stores_its_links(wh: Warehouse) -> None:
    rows = wh.rows("select source_a, id_a, source_b, id_b, rule, used from core.match_links")
    assert rows == [
        ("crm", "m3", "web", "w1", "probabilistic:name_dob_address_email", True),
        ("crm", "m4", "web", "w2", "probabilistic:name_dob_address", True),  # postcode (the town in it)
    ]
    assert wh.scalar("select min(match_probability) from core.match_links") >= 0.9


def test_the_parameters_are_m_u_and_their_weight_per_level_and_the_prior(wh: Warehouse) -> None:
    stored = wh.rows("select comparison, level, label from core.match_parameters order by position, level")
    expected = [("prior", None, "two records at random")]
    expected += [
        (c.name, level, label) for c in COMPARISONS.values() for level, label in enumerate(c.labels())
    ]
    assert stored == expected
    for m, u, weight in wh.rows("select m, u, match_weight from core.match_parameters"):
        assert weight == pytest.approx(np.log2(m / u), abs=1e-12)
    prior = parameter(wh, "prior", None)
    assert parameter(wh, "prior", None, "u") == pytest.approx(1 - prior, abs=1e-15)
    assert 0 < prior < 0.5


def test_a_links_evidence_sums_to_its_match_weight(wh: Warehouse) -> None:
    sums = wh.rows(
        "select l.id_a, l.id_b, l.match_weight, sum(e.match_weight), count(*) from core.match_links l "
        "join core.match_evidence e using (source_a, id_a, source_b, id_b) group by all order by 1"
    )
    assert [(a, b, rows) for a, b, _, _, rows in sums] == [("m3", "w1", 11), ("m4", "w2", 11)]
    for _, _, weight, total, _ in sums:
        assert total == pytest.approx(weight, abs=1e-9)


def test_a_typo_link_is_explained_level_by_level(wh: Warehouse) -> None:
    prior = parameter(wh, "prior", None)
    rows = evidence(wh, "m4", "w2")
    tf = {name: c.term_frequency for name, c in COMPARISONS.items()}
    assert [row[:4] for row in rows] == [
        ("prior", None, "two records at random", False),
        ("given", 2, "similarity >= 0.92", False),  # omar ~ omra
        ("family", TOP["family"], "exact", tf["family"]),
        ("dob", TOP["dob"], "exact", tf["dob"]),
        ("address", -1, MISSING, False),
        ("city", -2, IMPLIED, False),  # the postcode agrees: the town is in it, not evidence of its own
        ("postcode", TOP["postcode"], "exact", tf["postcode"]),
        ("national_id", -1, MISSING, False),
        ("email", -1, MISSING, False),  # web:w2 has no email
        ("phone", -1, MISSING, False),
        ("gender", -1, MISSING, False),
    ]
    weights = {row[0]: row[4] for row in rows}
    assert weights["prior"] == pytest.approx(np.log2(prior / (1 - prior)), abs=1e-12)
    assert weights["given"] == pytest.approx(parameter(wh, "given", 2, "match_weight"), abs=1e-12)
    # exact agreement on a comparison with term frequencies is weighed by the value's own share of the
    # records (khan: 5 of the 42, 2004 and 1954-05-05: 2), else by the level's u
    records_with = {"family": 5, "postcode": 2, "dob": 2}
    for name, count in records_with.items():
        m = parameter(wh, name, TOP[name])
        expected = (
            np.log2(m) - np.log2(count / RECORDS)
            if tf[name]
            else parameter(wh, name, TOP[name], "match_weight")
        )
        assert weights[name] == pytest.approx(expected, abs=1e-12), name
    assert [weights[name] for name in ("address", "city", "national_id", "email", "phone", "gender")] == [
        0.0
    ] * 6


def test_explain_pair_of_a_linked_pair_gives_the_stored_evidence(wh: Warehouse) -> None:
    explained = explain_pair(wh, world_config(), ("web", "w2"), ("crm", "m4"))
    stored = evidence(wh, "m4", "w2")
    assert [(s.comparison, s.level, s.label, s.term_frequency_adjusted) for s in explained.steps] == [
        row[:4] for row in stored
    ]
    assert [s.match_weight for s in explained.steps] == pytest.approx([row[4] for row in stored], abs=1e-12)
    link = wh.rows("select match_weight, match_probability from core.match_links where id_b = 'w2'")[0]
    assert (explained.match_weight, explained.match_probability) == pytest.approx(link, abs=1e-12)
    assert explained.steps[-1].total == pytest.approx(explained.match_weight, abs=1e-9)
    assert explained.link_used is True
    assert explained.customer_ids[0] == explained.customer_ids[1]
    # the compared values, in the order asked
    assert explained.steps[1].values == ("omra", "omar")
    assert explained.steps[2].values == ("khan", "khan")


def test_explain_pair_after_an_erasure_dropped_the_fitted_model_scores_with_every_records_frequencies() -> (
    None
):
    # an erasure empties core.match_model (tasks/erase/tables.py FITTED_MODELS) until the next run fits it again
    with Warehouse(":memory:") as warehouse:
        build_world(warehouse, world_config())
        before = explain_pair(warehouse, world_config(), ("web", "w2"), ("crm", "m4"))
        warehouse.execute("delete from core.match_model; delete from core.match_model_values")
        after = explain_pair(warehouse, world_config(), ("web", "w2"), ("crm", "m4"))
    assert [(s.comparison, s.level, s.values) for s in after.steps] == [
        (s.comparison, s.level, s.values) for s in before.steps
    ]
    assert after.link_used is True
    assert after.match_probability > 0.9  # the term frequencies of the 42 records now: still linked


def test_explain_pair_of_an_unlinked_pair_scores_as_the_matcher_does(wh: Warehouse) -> None:
    config = world_config()
    explained = explain_pair(wh, config, ("crm", "m1"), ("crm", "m11"))  # john and joseph brown
    assert explained.match_probability < 0.9
    assert explained.link_used is None
    assert explained.customer_ids[0] != explained.customer_ids[1]
    # the matcher itself, trained again on the same records, scores the pair the same
    records = customer_match_records(wh, config)
    _, outcome = probabilistic_links(records, config)
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    prepared = prepare_records(numbered.drop("record_source", "record_id"))
    pair = pl.DataFrame(
        {"left": [1], "right": [3]}
    )  # crm:m1 and crm:m11 in record order (m0, m1, m10, m11, ...)
    assert numbered["record_id"].gather([1, 3]).to_list() == ["m1", "m11"]
    levels = comparison_levels(prepared, pair)
    frequencies, conflict = term_frequencies(prepared), MatchSettings().conflict
    args = (prepared, pair, levels, outcome.parameters, frequencies, outcome.prior)
    scored = score_pairs(*args, evidence=True, conflict=conflict).row(0, named=True)
    assert [s.level for s in explained.steps[1:]] == [scored[f"l_{name}"] for name in COMPARISONS]
    assert [s.match_weight for s in explained.steps[1:]] == pytest.approx(
        [scored[f"w_{name}"] for name in COMPARISONS], abs=1e-12
    )
    assert explained.match_weight == pytest.approx(scored["match_weight"], abs=1e-12)
    assert explained.match_probability == pytest.approx(scored["match_probability"], abs=1e-15)
    assert explained.steps[2].label == "exact" and explained.steps[1].label != "exact"  # family, given
    # john and joseph differ, and so do their birth dates: two people, probability 0 whatever the weight
    assert [(s.label, s.values) for s in explained.steps if s.comparison in ("given", "dob")] == [
        ("different", ("john", "joseph")),
        ("different", ("1951-02-02", "1961-12-12")),
    ]
    assert explained.conflicting == ("birth_date",)
    assert explained.match_probability == 0.0
    unruled = score_pairs(*args, conflict=None).row(0, named=True)
    assert unruled["match_weight"] == pytest.approx(explained.match_weight, abs=1e-12)
    assert unruled["match_probability"] == pytest.approx(1 / (1 + 2**-explained.match_weight), rel=1e-12)


def test_render_explanation_is_a_waterfall(wh: Warehouse) -> None:
    text = render_explanation(explain_pair(wh, world_config(), ("crm", "m1"), ("crm", "m11")))
    lines = text.splitlines()
    assert lines[0].startswith(
        "crm:m1 and crm:m11: not linked by a probabilistic link of the last dedupe run;"
    )
    assert lines[3].split() == ["comparison", "crm:m1", "crm:m11", "level", "weight", "total"]
    assert lines[4].split()[:5] == ["prior", "two", "records", "at", "random"]
    assert lines[5].split()[:3] == ["given", "john", "joseph"]
    assert lines[6].split()[:5] == ["family", "brown", "brown", "exact", "(term"]
    assert lines[-2].endswith("below the threshold 0.9")
    assert lines[-1] == (
        "two people whatever the weight: their given names differ, and so do their birth dates (more than a year "
        "apart); never linked probabilistically (dedupe.person_conflicts)"
    )


def test_a_one_to_one_link_left_out_is_stored_as_unused() -> None:
    # web:w3 is crm:m3 again with a typo: crm:m3 links to web:w1 and web:w3, one to one keeps the better one
    extra = {
        "source": "web",
        "source_id": "w3",
        "given_name": "anm",
        "family_name": "lee",
        "birth_date": "1953-04-04",
        "city": "town3",
        "postcode": "2003",
        "email": "p3@x.com",
    }
    with Warehouse(":memory:") as wh:
        build_world(wh, world_config(one_to_one=[["crm", "web"]]), (extra,))
        rows = wh.rows("select id_b, used from core.match_links where id_a = 'm3' order by match_weight desc")
        assert sorted(id_b for id_b, _ in rows) == ["w1", "w3"]
        assert [used for _, used in rows] == [True, False]
        assert wh.scalar("select count(distinct id_b) from core.match_evidence where id_a = 'm3'") == 2


def test_a_run_without_the_matcher_leaves_empty_tables() -> None:
    with Warehouse(":memory:") as wh:
        build_world(wh, world_config())
        assert wh.count("core.match_links") == 2
        dedupe_all(wh, world_config(probabilistic=False), AS_OF, "r2")
        counts = [wh.count(f"core.match_{name}") for name in ("parameters", "links", "evidence")]
        assert counts == [0, 0, 0]
        with pytest.raises(DataError, match="trained no probabilistic matcher"):
            explain_pair(wh, world_config(), ("crm", "m1"), ("crm", "m11"))


def test_explain_pair_refuses_unknown_records_and_other_comparisons(wh: Warehouse) -> None:
    with pytest.raises(DataError, match="no customer record crm:m99"):
        explain_pair(wh, world_config(), ("crm", "m1"), ("crm", "m99"))
    with pytest.raises(DataError, match="two different customer records"):
        explain_pair(wh, world_config(), ("crm", "m1"), ("crm", "m1"))
    other = world_config(comparisons=[{"name": "dob", "kind": "exact", "column": "birth_date"}])
    with pytest.raises(DataError, match="differ from those the last dedupe run trained") as refused:
        explain_pair(wh, other, ("crm", "m1"), ("crm", "m11"))
    assert "(dob: kind birth_date -> exact, levels (different, within 10 years, " in str(refused.value)
    assert str(refused.value).endswith(" -> (different, exact)): run dedupe again to explain pairs with them")
    with pytest.raises(DataError, match="source:source_id"):
        parse_record("m1")
    assert parse_record("crm:m:1") == ("crm", "m:1")


@pytest.mark.parametrize(
    ("changed", "change"),
    [
        ({"term_frequency": False}, "given: term_frequency true -> false"),
        ({"column": "full_name"}, "given: attribute given_name -> full_name"),
        (
            {"column": "full_name", "term_frequency": False},
            "given: attribute given_name -> full_name, term_frequency true -> false",
        ),
    ],
)
def test_explain_pair_refuses_a_comparison_changed_with_the_same_levels(
    wh: Warehouse, changed: dict[str, object], change: str
) -> None:
    """Same kind and levels, another attribute or term frequency: the stored m and u are not its own."""
    given = {"name": "given", "kind": "name", "column": "given_name", "term_frequency": True}
    explain_pair(wh, world_config(comparisons=[given]), ("crm", "m1"), ("crm", "m11"))  # as trained
    with pytest.raises(DataError) as refused:
        explain_pair(wh, world_config(comparisons=[given | changed]), ("crm", "m1"), ("crm", "m11"))
    assert str(refused.value) == (
        "the config's comparisons (dedupe.comparisons) differ from those the last dedupe run trained "
        f"({change}): run dedupe again to explain pairs with them"
    )


def test_explain_pair_names_a_comparison_the_last_run_did_not_train(wh: Warehouse) -> None:
    extra = {"name": "nickname", "kind": "string", "column": "full_name"}
    with pytest.raises(DataError, match=r"\(nickname is new\): run dedupe again"):
        explain_pair(wh, world_config(comparisons=[extra]), ("crm", "m1"), ("crm", "m11"))


def test_comparison_changes_names_each_changed_new_and_dropped_comparison() -> None:
    given, city, gender = COMPARISONS["given"], COMPARISONS["city"], COMPARISONS["gender"]
    trained = {
        item.name: {
            "kind": item.kind,
            "attribute": item.attribute,
            "term_frequency": item.term_frequency,
            "levels": item.labels(),
        }
        for item in (given, city, replace(gender, name="old"))
    }
    assert comparison_changes(trained, [given, city]) == ["old was dropped"]
    assert comparison_changes(trained, [replace(given, term_frequency=False), gender, city]) == [
        "given: term_frequency true -> false",
        "gender is new",
        "old was dropped",
    ]
    assert comparison_changes(trained, [given, replace(city, kind="exact", attribute="town")]) == [
        "city: kind place -> exact, attribute city -> town, levels "
        f"({', '.join(city.labels())}) -> (different, exact)",
        "old was dropped",
    ]


def test_a_waterfall_with_chinese_values_stays_aligned() -> None:
    steps = [
        Step("prior", None, "two records at random", -12.5, -12.5),
        Step("given", 3, "exact", 8.25, -4.25, values=("张伟", "张伟")),
        Step("family", 1, "similar", 2.0, -2.25, values=("欧阳娜娜", "Ouyang Nana")),
        Step("city", 0, "differ", -1.5, -3.75, values=("上海", "")),
    ]
    lines = waterfall_lines(steps, ("crm:m1", "crm:m2"), indent="")
    # every line as wide on screen, and each column starting at the same screen column
    assert [cells(line) for line in lines] == [72] * 5
    starts = [(cells(line[: line.index(label)])) for line, label in zip(lines, LABELS, strict=True)]
    assert starts == [35] * 5
    assert lines[3] == "family      欧阳娜娜  Ouyang Nana  similar                 +2.00   -2.25"
    assert fit("欧阳娜娜", 5) == "欧阳 " and fit("abc", 5) == "abc  " and cells("张a") == 3


LABELS = ("level", "two records at random", "exact", "similar", "differ")


def test_every_level_of_no_evidence_is_named_alike_by_explain_and_the_stored_evidence(wh: Warehouse) -> None:
    wh.execute(
        "create or replace temp table _match_evidence as select * from (values "
        "('crm', 'a', 'web', 'b', 'given', -3::tinyint, 0.0), ('crm', 'a', 'web', 'b', 'city', -2::tinyint, 0.0), "
        "('crm', 'a', 'web', 'b', 'email', -1::tinyint, 0.0)) "
        "as t(source_a, id_a, source_b, id_b, comparison, level, match_weight)"
    )
    try:
        stored = wh.rows(
            f"select comparison, level, label from ({wh.model_sql('core/match_evidence')}) order by all"
        )
    finally:
        wh.execute("drop table _match_evidence")
    assert stored == [
        ("city", IMPLIED_LEVEL, IMPLIED),
        ("email", -1, MISSING),
        ("given", INITIAL, "an initial and a name it begins"),
    ]
    assert {level: NO_EVIDENCE[level] for _, level, _ in stored} == {
        level: label for _, level, label in stored
    }

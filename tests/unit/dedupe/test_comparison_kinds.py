"""Comparisons on any attribute: the kinds' levels, configured comparisons, link types, one-to-one links."""

import math
import re
from datetime import date

import numpy as np
import polars as pl
import pytest

from tasks.dedupe import one_to_one
from tasks.dedupe.blocking import candidate_pairs, candidate_rules, choose_rules, pair_budget
from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, Comparison, build_comparisons, comparison
from tasks.dedupe.levels import comparison_levels
from tasks.dedupe.preparation import prepare_records, unreadable_values
from tasks.dedupe.scoring import MatchSettings, match_records
from tasks.shared.config import ComparisonConfig, DedupeConfig, PipelineConfig, SourceConfig


def levels_of(rows: list[dict], item, pairs: list[tuple[int, int]]) -> list[int]:
    records = pl.DataFrame(rows)
    prepared = prepare_records(records, [item])
    frame = pl.DataFrame(
        {"left": [a for a, _ in pairs], "right": [b for _, b in pairs]},
        schema={"left": pl.Int64, "right": pl.Int64},
    )
    return comparison_levels(prepared, frame, comparisons=[item])[item.name].tolist()


def test_date_levels_count_days_apart() -> None:
    item = comparison("paid", "date", windows_days=[3, 1])
    rows = [
        {"node": 0, "paid": "2026-03-01"},
        {"node": 1, "paid": "2026-03-01"},
        {"node": 2, "paid": "2026-03-02"},
        {"node": 3, "paid": "2026-03-04"},
        {"node": 4, "paid": "2026-04-01"},
        {"node": 5, "paid": None},
        {"node": 6, "paid": "not a date"},
    ]
    assert item.labels() == ("different", "within 3 days", "within 1 days", "exact")
    assert levels_of(rows, item, [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6)]) == [3, 2, 1, 0, -1, -1]


def test_numeric_levels_absolute_then_relative() -> None:
    item = comparison("amount", "numeric", abs_tolerance=[0.01], rel_tolerance=[0.01, 0.1])
    rows = [
        {"node": 0, "amount": "100.00"},
        {"node": 1, "amount": "100"},
        {"node": 2, "amount": "100.01"},
        {"node": 3, "amount": "100.90"},
        {"node": 4, "amount": "95"},
        {"node": 5, "amount": "50"},
        {"node": 6, "amount": "1,000"},
        {"node": 7, "amount": "1000.00"},
    ]
    assert item.labels() == ("different", "within 10%", "within 1%", "within 0.01", "exact")
    assert levels_of(rows, item, [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (6, 7)]) == [4, 3, 2, 1, 0, 4]


def built(**options: object) -> Comparison:
    """The comparison build_comparisons makes of one configured comparison."""
    [item] = [c for c in build_comparisons([ComparisonConfig(**options)]) if c.name == options["name"]]
    return item


def test_numeric_levels_are_the_ones_given() -> None:
    # a birth year from an age compared within 1 and 2: no relative level is added (1972 and 1993 are within
    # 10% of each other, and "within 10%" put them on one level, as for the voter register's generations)
    item = built(name="birth_year", kind="numeric", abs_tolerance=[2, 1])
    assert item.labels() == ("different", "within 2", "within 1", "exact")
    rows = [
        {"node": 0, "birth_year": "1972"},
        {"node": 1, "birth_year": "1993"},
        {"node": 2, "birth_year": "1973"},
        {"node": 3, "birth_year": "1974"},
    ]
    assert levels_of(rows, item, [(0, 1), (0, 2), (0, 3), (0, 0)]) == [0, 2, 1, 3]
    assert built(name="birth_year", kind="numeric", abs_tolerance=[1], rel_tolerance=[]).labels() == (
        "different",
        "within 1",
        "exact",
    )
    relative = built(name="amount", kind="numeric", rel_tolerance=[0.05])
    assert relative.labels() == ("different", "within 5%", "exact")
    assert relative.bucket_width == 0.02  # near_ blocking rules: the buckets of the default absolute level
    # rel_tolerance: [] alone turns the relative levels off and keeps the default absolute one
    assert built(name="amount", kind="numeric", rel_tolerance=[]).labels() == (
        "different",
        "within 0.01",
        "exact",
    )
    # given neither, the defaults: within 0.01, then within 1% and 10%
    assert built(name="amount", kind="numeric").labels() == (
        "different",
        "within 10%",
        "within 1%",
        "within 0.01",
        "exact",
    )


def test_postcode_levels_follow_the_hierarchy() -> None:
    item = comparison("postcode", "postcode")
    rows = [
        {"node": 0, "postcode": "SW1A 1AA"},
        {"node": 1, "postcode": "sw1a1aa"},
        {"node": 2, "postcode": "SW1A 1AB"},
        {"node": 3, "postcode": "SW1A 2BB"},
        {"node": 4, "postcode": "SW9 7XY"},
        {"node": 5, "postcode": "NW3 1AA"},
        {"node": 6, "postcode": "100020"},
        {"node": 7, "postcode": "100081"},
    ]
    # UK: outward code is the district, its letters the area; other codes: all but two characters
    assert levels_of(rows, item, [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (6, 7)]) == [4, 3, 2, 1, 0, 2]


def reference_overlap(texts: list[str], a: int, b: int) -> float:
    """The text kind's similarity worked out by hand: word trigrams (a word padded with spaces), each
    weighing ln((records + 1) / records with it), weight in common over the smaller text's weight."""

    def grams(text: str) -> set[str]:
        words = re.findall(r"[^\W\d_]+|\d+", text.lower())
        return {f" {w} "[i : i + 3] for w in words for i in range(len(w))}

    sets = [grams(t) for t in texts]
    weight = {g: math.log((len(texts) + 1) / sum(g in s for s in sets)) for s in sets for g in s}
    common = sum(weight[g] for g in sets[a] & sets[b])
    return common / min(sum(weight[g] for g in sets[a]), sum(weight[g] for g in sets[b]))


def test_text_levels_weigh_rare_trigrams() -> None:
    item = comparison("memo", "text", thresholds=[0.8, 0.5, 0.2])
    texts = [
        "CARD PAYMENT TO TESCO STORES ON 31DEC",
        "groceries: tesco",
        "PAYPAL *STEAMGAMES REF 88123",
        "Steam games purchase paypal ref88123",
        "Wetherspoons pub",
        "WETHERSPOON BRIGHTON",
        "uber trip",
        "uber trip",
    ]
    rows = [{"node": i, "memo": t} for i, t in enumerate(texts)]
    pairs = [(0, 1), (2, 3), (4, 5), (6, 7), (0, 6)]
    overlaps = [reference_overlap(texts, a, b) for a, b in pairs]
    expected = [
        4 if texts[a].lower() == texts[b].lower() else sum(o >= t for t in (0.2, 0.5, 0.8))
        for (a, b), o in zip(pairs, overlaps, strict=True)
    ]
    assert levels_of(rows, item, pairs) == expected
    # a word split in two and glued to a number agrees strongly, a plural and another place less, one
    # shop name among a long memo's words weakly; no trigram in common is level 0
    assert expected == [1, 3, 2, 4, 0]


def test_string_kind_on_a_match_column_and_exact_kind() -> None:
    item = comparison("occupation", "string")
    rows = [
        {"node": 0, "occupation": "Painter"},
        {"node": 1, "occupation": "painter"},
        {"node": 2, "occupation": "paintre"},
        {"node": 3, "occupation": "sailor"},
    ]
    assert levels_of(rows, item, [(0, 1), (0, 2), (0, 3)]) == [3, 2, 0]
    gender = comparison("sex", "exact")
    assert levels_of(
        [{"node": 0, "sex": "M"}, {"node": 1, "sex": "m"}, {"node": 2, "sex": "F"}], gender, [(0, 1), (0, 2)]
    ) == [1, 0]


def test_build_comparisons_replaces_by_name_and_appends() -> None:
    configured = [
        ComparisonConfig(name="city", kind="string", thresholds=[0.95]),
        ComparisonConfig(name="occupation", kind="string", term_frequency=True),
    ]
    built = build_comparisons(configured)
    names = [c.name for c in built]
    assert names == [c.name for c in DEFAULT_COMPARISONS] + ["occupation"]
    city = built[names.index("city")]
    assert (city.kind, city.thresholds, city.column, city.term_frequency) == (
        "string",
        (0.95,),
        "city",
        False,
    )
    occupation = built[-1]
    assert (occupation.column, occupation.thresholds, occupation.term_frequency) == (
        "c_occupation",
        (0.9, 0.75),
        True,
    )


def test_comparison_config_refuses_options_of_another_kind() -> None:
    with pytest.raises(ValueError, match="windows_days is for comparisons of kind date, not numeric"):
        ComparisonConfig(name="amount", kind="numeric", windows_days=[1])
    with pytest.raises(ValueError, match="thresholds are similarities below 1"):
        ComparisonConfig(name="memo", kind="text", thresholds=[1.0])
    with pytest.raises(ValueError, match="one_to_one entries are two different sources"):
        DedupeConfig(one_to_one=[["bank", "bank"]])


def test_choose_rules_takes_the_tightest_under_the_budget() -> None:
    counts = {"a": 10, "b": 50, "c": 0, "d": 30, "e": 100}
    assert choose_rules(counts, budget=95) == ["a", "d", "b"]
    assert choose_rules(counts, budget=5) == []
    # required rules come first, whatever they cost
    assert choose_rules(counts, budget=95, required=["e", "c"]) == ["e"]
    assert pair_budget(1000, 2_000_000) == 2_000_000
    assert pair_budget(1_000_000, 2_000_000) == 12_000_000


def test_candidate_rules_cover_the_configured_match_columns() -> None:
    configured = build_comparisons(
        [
            ComparisonConfig(name="amount", kind="numeric"),
            ComparisonConfig(name="paid", kind="date"),
            ComparisonConfig(name="memo", kind="text"),
        ]
    )
    rules = candidate_rules(configured)
    assert rules["amount"] == ("c_amount",)
    assert rules["amount_paid"] == ("c_amount", "c_paid")
    assert rules["memo_tokens"] == ("c_memo",)
    assert "memo" not in rules


def test_blocking_from_the_data_links_on_a_name_alone_and_on_rare_tokens() -> None:
    configured = build_comparisons([ComparisonConfig(name="memo", kind="text")])
    records = pl.DataFrame(
        {
            "node": [0, 1, 2, 3],
            "full_name": ["Ann Lee", "Ann Lee", "Bo Chan", "Cy Diaz"],
            "memo": ["ref 5551 steam", "steam 5551", "netflix", "uber"],
        }
    )
    prepared = prepare_records(records, configured)
    pairs, _, report = candidate_pairs(prepared, None, 25, comparisons=configured, budget=1000)
    assert pairs.rows() == [(0, 1)]
    chosen = {b.rule: b.pairs for b in report if b.chosen}
    assert chosen["name"] == 1
    assert chosen["memo_tokens"] == 2  # '5551' and 'steam' are both shared: the pair counted once per token


def test_link_types_count_and_propose_the_pairs_they_compare() -> None:
    # one block (the same name) of three records: two from source 0, one from source 1
    records = pl.DataFrame({"node": [0, 1, 2], "full_name": ["Ann Lee"] * 3, "grp": [0, 0, 1]})
    prepared = prepare_records(records).with_columns(grp=records["grp"])
    expected = {
        "link_only": ([(0, 2), (1, 2)], 2),
        "dedupe_only": ([(0, 1)], 1),
        "link_and_dedupe": ([(0, 1), (0, 2), (1, 2)], 3),
    }
    for link_type, (pairs_expected, counted) in expected.items():
        pairs, _, report = candidate_pairs(prepared, ["name"], 25, link_type=link_type)
        assert pairs.rows() == pairs_expected, link_type
        assert [(b.rule, b.pairs) for b in report] == [("name", counted)], link_type


def test_one_to_one_keeps_the_best_link_of_each_record() -> None:
    links = pl.DataFrame(
        {
            "source_a": ["bank", "bank", "bank", "crm"],
            "id_a": ["b1", "b1", "b2", "c1"],
            "source_b": ["ledger", "ledger", "ledger", "crm"],
            "id_b": ["l1", "l2", "l1", "c2"],
            "match_probability": [0.99, 0.95, 0.97, 0.91],
            "match_weight": [7.0, 4.0, 5.0, 3.0],
        }
    )
    kept = one_to_one(links, [["ledger", "bank"]])
    # b1-l1 is best; b2-l1 and b1-l2 lose their record; crm pairs are not constrained
    assert kept.select("id_a", "id_b").rows() == [("b1", "l1"), ("c1", "c2")]


def test_match_records_link_only_with_transactions_fields() -> None:
    configured = build_comparisons(
        [
            ComparisonConfig(name="amount", kind="numeric"),
            ComparisonConfig(name="paid", kind="date", windows_days=[1, 3]),
            ComparisonConfig(name="memo", kind="text"),
        ]
    )
    rng = np.random.default_rng(3)
    rows, groups = [], []
    for i in range(60):
        amount = float(rng.integers(5, 500))
        day = date(2026, 1, 1 + i % 28)
        rows.append(
            {
                "node": 2 * i,
                "amount": f"{amount:.2f}",
                "paid": day.isoformat(),
                "memo": f"shop{i % 7} ref {1000 + i}",
            }
        )
        rows.append(
            {
                "node": 2 * i + 1,
                "amount": f"{amount:.2f}",
                "paid": day.isoformat(),
                "memo": f"ref{1000 + i} shop{i % 7} purchase",
            }
        )
        groups += [0, 1]
    settings = MatchSettings(threshold=0.9, comparisons=configured, link_type="link_only")
    outcome = match_records(pl.DataFrame(rows), settings=settings, groups=np.array(groups))
    linked = set(outcome.links.select("left", "right").rows())
    assert linked == {(2 * i, 2 * i + 1) for i in range(60)}


def test_a_han_name_and_its_pinyin_agree_loosely() -> None:
    records = pl.DataFrame(
        {
            "node": [0, 1, 2, 3, 4, 5],
            "full_name": ["张伟", None, "章伟", "Wei Zhang", "张伟明", "Zhang Weiming"],
            "given_name": [None, "Wei", None, None, None, None],
            "family_name": [None, "Zhang", None, None, None, None],
        }
    )
    prepared = prepare_records(records)
    assert prepared["pinyin"].to_list() == ["weizhang"] * 4 + ["weimingzhang"] * 2
    pairs = pl.DataFrame({"left": [0, 0, 1, 4], "right": [1, 2, 3, 5]})
    levels = comparison_levels(prepared, pairs)
    # Han against Latin with the same pinyin: level 1 of 0-3 (the loosest similar level), also with a
    # two-character given name written in the other order; two Han homophones stay different surnames
    # (张, 章); Latin against Latin is compared as written (exact)
    assert levels["given"].tolist() == [1, 3, 3, 1]
    assert levels["family"].tolist() == [1, 0, 3, 1]


def test_amounts_and_dates_as_text_are_read_or_counted_as_unreadable() -> None:
    configured = build_comparisons(
        [
            ComparisonConfig(name="amount", kind="numeric"),
            ComparisonConfig(name="paid", kind="date"),
            ComparisonConfig(name="born", kind="birth_date"),
        ]
    )
    records = pl.DataFrame(
        {
            "node": list(range(8)),
            "amount": ["¥1,234.50", "0.125", "1.500", "-12.00", "abc", "", None, "RMB 88"],
            "paid": ["2026/03/01", "01.03.2026", "2026-03-02", "20260303", "x", "2026.3.1", None, " "],
            "born": ["1845-03-02", "1845/3/2", None, "02/03/1845", "", "18450302", "nope", None],
        }
    )
    prepared = prepare_records(records, configured)
    # points are decimals here (most values end in .d or .dd): 0.125 and 1.500 are not thousands
    assert prepared["c_amount"].to_list() == [1234.5, 0.125, 1.5, -12.0, None, None, None, 88.0]
    # days since 1970-01-01: 2026-03-01 is day 20513; 01.03.2026 is not guessed (day or month first?)
    assert prepared["c_paid"].to_list() == [20513, None, 20514, 20515, None, 20513, None, None]
    assert prepared["c_born"].to_list() == ["18450302", "18450302", None, None, None, "18450302", None, None]
    # a value there but not readable: 'abc' (an empty text is no value); '01.03.2026' and 'x';
    # '02/03/1845' and 'nope'
    assert unreadable_values(records, prepared, configured) == {"amount": 1, "paid": 2, "born": 2}


def test_a_column_of_decimal_commas_is_read_as_such() -> None:
    configured = build_comparisons([ComparisonConfig(name="amount", kind="numeric")])
    records = pl.DataFrame({"node": [0, 1, 2, 3], "amount": ["1.234,50", "12,50", "3,1", "€ 1.000"]})
    prepared = prepare_records(records, configured)
    assert prepared["c_amount"].to_list() == [1234.5, 12.5, 3.1, 1000.0]


def test_han_text_is_compared_by_similarity_except_in_names() -> None:
    address = comparison("address", "string")
    rows = [
        {"node": 0, "address": "北京市朝阳区建国路88号院3号楼"},
        {"node": 1, "address": "北京市朝阳区建国路88号院5号楼"},
        {"node": 2, "address": "上海市浦东新区"},
    ]
    assert levels_of(rows, address, [(0, 1), (0, 2)]) == [2, 0]
    name = comparison("alias", "name")
    assert levels_of([{"node": 0, "alias": "张晶"}, {"node": 1, "alias": "张晶洁"}], name, [(0, 1)]) == [0]


def test_config_refuses_unknown_rules_reserved_names_and_a_future_window() -> None:
    comparisons = [
        ComparisonConfig(name="amount", kind="numeric"),
        ComparisonConfig(name="city", kind="string"),
    ]
    DedupeConfig(comparisons=comparisons, blocking_rules=["name_dob", "amount"])  # a rule on a match column
    with pytest.raises(ValueError, match=r"unknown blocking rules \['amount_typo', 'city'\]"):
        DedupeConfig(comparisons=comparisons, blocking_rules=["name_dob", "amount_typo", "city"])
    with pytest.raises(ValueError, match="'prior' is a name the matcher uses itself"):
        ComparisonConfig(name="prior", kind="exact")
    with pytest.raises(ValueError, match="is not in the past"):
        DedupeConfig(earliest_birth_date=date(2999, 1, 1))
    with pytest.raises(ValueError, match="match_columns.node: node is a name the matcher uses itself"):
        SourceConfig(
            name="bank",
            kind="customers",
            format="csv",
            path="bank.csv",
            columns={"source_id": "id"},
            match_columns={"node": "n"},
        )


def test_malformed_and_infinite_amounts_are_unreadable_never_changed() -> None:
    configured = build_comparisons([ComparisonConfig(name="amount", kind="numeric")])
    amounts = ["12.50", "12,5", "1,2345", "inf", "1e400", "３２８．００", "12.5块", "1,000"]
    records = pl.DataFrame({"node": list(range(len(amounts))), "amount": amounts})
    prepared = prepare_records(records, configured)
    assert prepared["c_amount"].to_list() == [12.5, None, None, None, None, 328.0, 12.5, 1000.0]
    assert unreadable_values(records, prepared, configured) == {"amount": 4}


def test_a_configured_comparison_without_any_value_is_reported_unused() -> None:
    configured = build_comparisons(
        [ComparisonConfig(name="memo", kind="numeric"), ComparisonConfig(name="amount", kind="numeric")]
    )
    records = pl.DataFrame(
        {
            "node": [0, 1, 2],
            "full_name": ["Ann Lee", "Ann Lee", "Bo Chan"],
            "memo": ["steam", "steam", "netflix"],
            "amount": ["1.00", "1.00", "2.00"],
        }
    )
    outcome = match_records(records, settings=MatchSettings(comparisons=configured))
    assert outcome.unused == ["memo"]
    assert outcome.unreadable == {"memo": 3}


def test_a_match_column_no_comparison_reads_is_a_config_error() -> None:
    source = {
        "name": "bank",
        "kind": "customers",
        "format": "csv",
        "path": "bank.csv",
        "columns": {"source_id": "id"},
        "match_columns": {"memo": "memo", "dob": "dob"},
    }
    with pytest.raises(
        ValueError, match=r"match_columns \['dob'\] are compared by no dedupe.comparisons entry"
    ):
        PipelineConfig.model_validate(
            {
                "warehouse": "w.duckdb",
                "sources": [source],
                "dedupe": {"comparisons": [{"name": "memo", "kind": "text"}]},
            }
        )


def test_level_labels_say_what_each_level_means() -> None:
    assert comparison("memo", "text").labels() == (
        "different",
        "trigrams in common >= 25%",
        "trigrams in common >= 50%",
        "trigrams in common >= 80%",
        "exact",
    )
    assert comparison("dob", "birth_date").labels() == (
        "different",
        "within 10 years",
        "within a year",
        "one edit apart or day and month swapped",
        "exact",
    )
    assert comparison("postcode", "postcode").labels() == (
        "different",
        "same area",
        "same district",
        "one edit apart",
        "exact",
    )

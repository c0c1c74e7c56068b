"""The probabilistic matcher (tasks/dedupe: comparisons, blocking, training, scoring) on hand-built records."""

import logging
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from tasks.dedupe.blocking import blocking_keys, candidate_pairs
from tasks.dedupe.comparisons import (
    DEFAULT_COMPARISONS,
    GENDER_MAX_M_DIFFERENT,
    Comparison,
    PersonConflict,
    build_comparisons,
    person_conflict,
)
from tasks.dedupe.levels import IMPLIED, INITIAL, comparison_levels
from tasks.dedupe.preparation import prepare_records
from tasks.dedupe.scoring import MatchSettings, match_records, score_pairs
from tasks.dedupe.training import (
    MIN_EM_SUPPORT,
    Parameters,
    capped,
    em_caps,
    estimate_parameters,
    labelled_m,
    level_patterns,
    monotone,
)
from tasks.shared.config import ComparisonConfig
from tasks.shared.warehouse import Warehouse
from tests.unit.dedupe.match_world import build_world, world_config


def records(rows: list[dict]) -> pl.DataFrame:
    """Customer records with a node number each, any canonical field left out is null."""
    schema = {
        "node": pl.Int64,
        "full_name": pl.String,
        "given_name": pl.String,
        "family_name": pl.String,
        "birth_date": pl.Date,
        "city": pl.String,
        "postcode": pl.String,
        "address": pl.String,
        "email_norm": pl.String,
        "phone_norm": pl.String,
        "national_id": pl.String,
        "gender": pl.String,
    }
    return pl.DataFrame([{**dict.fromkeys(schema), **row} for row in rows], schema=schema)


def test_prepare_records_splits_folds_and_strips() -> None:
    prepared = prepare_records(
        records(
            [
                {"node": 0, "full_name": "張偉", "birth_date": date(1990, 3, 7), "city": "广州市"},
                {"node": 1, "full_name": "王小明", "city": "北京"},
                {
                    "node": 2,
                    "given_name": "Ｊｏｈｎ",
                    "family_name": "O'Neil",
                    "birth_date": date(1985, 12, 1),
                    "city": " Sydney ",
                    "national_id": "12-345 6x",
                },
                {
                    "node": 3,
                    "full_name": "José María",
                    "email_norm": "j.m@x.com",
                    "phone_norm": "+8613800138000",
                },
            ]
        )
    )
    columns = ("node", "given", "family", "dob", "dob_swapped", "city", "national_id", "email_local", "phone")
    assert prepared.select(columns).rows() == [
        # traditional to simplified, Han surname is the first character, 市 dropped
        (0, "伟", "张", "19900307", "19900703", "广州", None, None, None),
        (1, "小明", "王", None, None, "北京", None, None, None),
        # full-width folded, punctuation dropped from names, national id upper-case letters and digits
        (2, "john", "oneil", "19851201", "19850112", "sydney", "123456X", None, None),
        # Latin full name: first and last word, accents removed
        (3, "jose", "maria", None, None, None, None, "j.m", "8613800138000"),
    ]


def test_candidate_pairs_share_a_key_and_skip_large_blocks() -> None:
    prepared = prepare_records(
        records(
            [
                {"node": 0, "full_name": "王伟", "birth_date": date(1990, 1, 1)},
                {"node": 1, "full_name": "王伟", "birth_date": date(1990, 1, 1)},
                {"node": 2, "full_name": "李娜", "birth_date": date(1990, 1, 1)},
                {"node": 3, "full_name": "李娜", "birth_date": date(1991, 1, 1)},
                {"node": 5, "national_id": "X1"},
                {"node": 7, "national_id": "X1"},
            ]
        )
    )
    pairs, skipped, _ = candidate_pairs(prepared, ["name_dob", "national_id"], max_block_size=50)
    assert pairs.rows() == [(0, 1), (5, 7)]
    # the birth date alone groups three records: one block too many for a maximum of two
    pairs, skipped, _ = candidate_pairs(prepared, ["dob", "national_id"], max_block_size=2)
    assert pairs.rows() == [(5, 7)]
    assert skipped == ["dob=19900101 (3 records)"]
    with pytest.raises(ValueError, match="unknown blocking rules \\['nope'\\]"):
        candidate_pairs(prepared, ["nope"])


def test_candidate_pairs_keep_the_keys_of_the_rules_they_used(tmp_path: Path) -> None:
    prepared = prepare_records(
        records(
            [
                {"node": 0, "full_name": "王伟", "birth_date": date(1990, 1, 1), "national_id": "X1"},
                {"node": 1, "full_name": "王伟", "birth_date": date(1990, 1, 1)},
                {"node": 2, "full_name": "李娜", "birth_date": date(1991, 2, 3), "email_norm": "li@x.cn"},
                {"node": 5, "national_id": "X1", "email_norm": "li@x.cn"},
            ]
        )
    )
    kept = tmp_path / "keys.parquet"
    _, _, report = candidate_pairs(prepared, None, 25, budget=2, keys_to=kept)
    chosen = [rule.rule for rule in report if rule.chosen]
    # the budget leaves some of the rules the data has out: their keys are not kept
    assert set(chosen) == {"national_id", "email_local"} < {rule.rule for rule in report}
    expected = blocking_keys(prepared, chosen).sort("rule", "node", "key")
    assert pl.read_parquet(kept).select("rule", "node", "key").sort("rule", "node", "key").rows() == [
        ("email_local", 2, "li"),
        ("email_local", 5, "li"),
        ("national_id", 0, "X1"),
        ("national_id", 5, "X1"),
    ]
    assert (
        pl.read_parquet(kept).sort("rule", "node", "key").rows()
        == expected.select("rule", "node", "key").rows()
    )


def test_comparison_levels() -> None:
    prepared = prepare_records(
        records(
            [
                {
                    "node": 0,
                    "given_name": "martha",
                    "family_name": "smith",
                    "birth_date": date(1990, 3, 7),
                    "phone_norm": "+8613800138000",
                    "email_norm": "msmith@a.com",
                },
                {
                    "node": 1,
                    "given_name": "marhta",
                    "family_name": "smith",
                    "birth_date": date(1990, 7, 3),
                    "phone_norm": "+8613800138009",
                    "email_norm": "msmit@b.com",
                },
                {"node": 2, "full_name": "张晶", "birth_date": date(1990, 3, 8)},
                {"node": 3, "full_name": "张晶洁", "birth_date": date(1980, 1, 1)},
                {"node": 4, "given_name": "smith", "family_name": "martha"},
            ]
        )
    )
    pairs = pl.DataFrame({"left": [0, 2, 0], "right": [1, 3, 4]})
    levels = comparison_levels(prepared, pairs)
    picked = {name: levels[name].tolist() for name in ("given", "family", "dob", "phone", "email", "city")}
    assert picked == {
        # a Latin typo is close (Jaro-Winkler 0.96); one Han character more is another name;
        # given and family name the other way round count as exact
        "given": [2, 0, 3],
        "family": [3, 3, 3],
        # day and month swapped is a near miss (one edit too); more than ten years apart is a miss;
        # missing is -1
        "dob": [3, 0, -1],
        "phone": [1, -1, -1],
        "email": [1, -1, -1],
        "city": [-1, -1, -1],
    }
    assert set(levels) == {c.name for c in DEFAULT_COMPARISONS}


def test_an_initial_and_a_name_it_begins_are_no_evidence_either_way() -> None:
    middle = Comparison("middle_name", "middle_name", "name", thresholds=(0.92, 0.8))
    rows = [
        ("J.", "Smith", "Jane"),  # 0
        ("John", "Smith", "J"),  # 1
        ("M", "Smith", "Ann"),  # 2
        ("Mary", "Smith", "Anne"),  # 3
        ("Jo", "Smith", "Jane"),  # 4
    ]
    frame = pl.DataFrame(
        {
            "node": range(len(rows)),
            "given_name": [r[0] for r in rows],
            "family_name": [r[1] for r in rows],
            "middle_name": [r[2] for r in rows],
        }
    )
    comparisons = (*DEFAULT_COMPARISONS, middle)
    prepared = prepare_records(frame, comparisons)
    pairs = pl.DataFrame({"left": [0, 0, 2, 1, 0], "right": [1, 2, 3, 4, 4]})
    levels = comparison_levels(prepared, pairs, None, comparisons)
    # given: J and John an initial (INITIAL, no evidence), J and M different (0), M and Mary an initial, John and Jo
    # 0.87 (1), J and Jo 0.85 (1: similar already, kept); middle: Jane and J an initial, Jane and Ann different, Ann
    # and Anne 0.97 (2), J and Jane an initial, Jane exact (3)
    assert levels["given"].tolist() == [INITIAL, 0, INITIAL, 1, 1]
    assert levels["middle_name"].tolist() == [INITIAL, 0, 2, INITIAL, 3]
    assert levels["family"].tolist() == [3, 3, 3, 3, 3]
    # a Han name of one character is no initial: 晶 and 晶洁 are two names
    han = prepare_records(
        pl.DataFrame({"node": [0, 1], "given_name": ["晶", "晶洁"], "family_name": ["张", "张"]})
    )
    assert comparison_levels(han, pl.DataFrame({"left": [0], "right": [1]}))["given"].tolist() == [0]


def test_score_pairs_adds_log2_bayes_factors_to_the_prior() -> None:
    prepared = prepare_records(
        records(
            [
                {"node": 0, "given_name": "ann", "family_name": "lee", "birth_date": date(1990, 1, 1)},
                {"node": 1, "given_name": "ann", "family_name": "lee", "birth_date": date(1990, 1, 1)},
            ]
        )
    )
    pairs = pl.DataFrame({"left": [0], "right": [1]})
    levels = comparison_levels(prepared, pairs)
    m = {name: np.full(len(u), 1 / len(u)) for name, u in _flat_u().items()}
    u = _flat_u()
    m["dob"] = np.array([0.1, 0.05, 0.05, 0.1, 0.7])
    u["dob"] = np.array([0.9, 0.03, 0.02, 0.04, 0.01])
    scored = score_pairs(
        prepared, pairs, levels, Parameters(m=m, u=u, prior=0.5, iterations=0), prior=1 / 9, conflict=None
    )
    # prior odds 1:8 (-3 bits); dob exact: log2(0.7 / 0.01); every other comparison is flat or missing
    expected = -3 + np.log2(0.7 / 0.01)
    assert scored["match_weight"].to_list() == [pytest.approx(expected)]
    assert scored["match_probability"].to_list() == [pytest.approx(2**expected / (1 + 2**expected))]
    assert scored["rule"].to_list() == ["probabilistic:dob"]


def _flat_u() -> dict[str, np.ndarray]:
    return {c.name: np.full(c.levels, 1 / c.levels) for c in DEFAULT_COMPARISONS}


def test_labelled_m_learns_from_other_identifiers_only() -> None:
    rows = []
    for i in range(40):  # 40 pairs sharing a phone: 30 agree on the birth date, 10 do not
        born = date(1980, 1, 1 + i % 28)
        rows.append({"node": 2 * i, "phone_norm": f"+86138{i:08d}", "birth_date": born})
        other = born if i < 30 else date(1970, 6, 15)
        rows.append({"node": 2 * i + 1, "phone_norm": f"+86138{i:08d}", "birth_date": other})
    m = labelled_m(prepare_records(records(rows)))
    # dob levels (miss, within 10 years, within a year, one edit, exact) counted plus 0.5 each: the 10
    # others are 9.5 years apart (1980-01 against 1970-06-15): 0.5, 10.5, 0.5, 0.5, 30.5 of 42.5
    assert m["dob"].tolist() == pytest.approx([0.5 / 42.5, 10.5 / 42.5, 0.5 / 42.5, 0.5 / 42.5, 30.5 / 42.5])
    assert "phone" not in m  # identifiers are left to EM: pairs found by one understate typos in the others


def test_estimate_parameters_finds_the_match_share_with_fixed_m() -> None:
    # 100 pairs: 20 agree exactly on everything, 80 disagree on everything
    levels = {name: np.array([1] * 20 + [0] * 80, dtype=np.int8) for name in ("gender", "national_id")}
    u = {"gender": np.array([0.5, 0.5]), "national_id": np.array([0.99, 0.005, 0.005])}
    levels["national_id"] = np.array([2] * 20 + [0] * 80, dtype=np.int8)
    fixed = {"gender": np.array([0.01, 0.99]), "national_id": np.array([0.01, 0.01, 0.98])}
    parameters = estimate_parameters(levels, u, fixed)
    assert parameters.m["gender"].tolist() == [0.01, 0.99]
    assert parameters.prior == pytest.approx(0.2, abs=0.005)


def test_match_records_links_a_typo_without_a_shared_identifier() -> None:
    people = [("martha", "smith"), ("john", "brown"), ("li", "wang"), ("ann", "lee"), ("omar", "khan")]
    rows = []
    for i, (given, family) in enumerate(people * 8):
        rows.append(
            {
                "node": i,
                "given_name": f"{given}{i}",
                "family_name": family,
                "birth_date": date(1950 + i, 1 + i % 12, 1 + i % 28),
                "city": f"town{i % 7}",
                "postcode": f"{2000 + i}",
                "email_norm": f"p{i}@x.com",
            }
        )
    # a second record of person 3: the same email (a labelled pair), and one of person 4 with a typo only
    rows.append({**rows[3], "node": 100})
    rows.append({**rows[4], "node": 101, "given_name": "omra4", "email_norm": None})
    outcome = match_records(records(rows), settings=MatchSettings(threshold=0.9))
    assert outcome.links.select("left", "right").rows() == [(3, 100), (4, 101)]
    assert (
        outcome.links["rule"].to_list()
        == [
            "probabilistic:name_dob_address_email",  # the town is in the address that agrees: not a reason of its own
            "probabilistic:name_dob_address",
        ]
    )


def test_level_patterns_count_the_distinct_combinations() -> None:
    levels = {
        "gender": np.array([1, 1, 0, -1, 1], dtype=np.int8),
        "dob": np.array([4, 4, 0, 0, -1], dtype=np.int8),
    }
    u = {"gender": np.array([0.5, 0.5]), "dob": np.full(5, 0.2)}
    patterns, counts = level_patterns(levels, u)
    combos = sorted(zip(patterns["gender"].tolist(), patterns["dob"].tolist(), counts.tolist(), strict=True))
    assert combos == [(-1, 0, 1.0), (0, 0, 1.0), (1, -1, 1.0), (1, 4, 2.0)]


def test_level_patterns_count_every_kind_of_no_evidence_as_missing() -> None:
    # an initial (INITIAL) or a location a finer one stands for (IMPLIED) is no evidence, as missing (-1) is: one
    # pattern of -1, and the comparison before it keeps its level (a key digit below 0 would borrow from it)
    levels = {
        "given": np.array([3, 3, 3, 2], dtype=np.int8),
        "middle": np.array([INITIAL, -1, IMPLIED, INITIAL], dtype=np.int8),
    }
    u = {"given": np.full(4, 0.25), "middle": np.full(4, 0.25)}
    patterns, counts = level_patterns(levels, u)
    combos = sorted(
        zip(patterns["given"].tolist(), patterns["middle"].tolist(), counts.tolist(), strict=True)
    )
    assert combos == [(2, -1, 1.0), (3, -1, 3.0)]


def test_level_patterns_of_many_comparisons_do_not_overflow() -> None:
    rng = np.random.default_rng(0)
    names = [f"c{i}" for i in range(30)]  # 6 ** 30 combinations: more than an int64 holds
    levels = {name: rng.integers(-1, 5, size=200).astype(np.int8) for name in names}
    u = {name: np.full(5, 0.2) for name in names}
    patterns, counts = level_patterns(levels, u)
    rows = set(zip(*(levels[n].tolist() for n in names), strict=True))
    assert counts.sum() == 200
    assert set(zip(*(patterns[n].tolist() for n in names), strict=True)) == rows


def test_capped_moves_the_excess_of_different_onto_the_other_levels_in_proportion() -> None:
    assert capped(np.array([0.2, 0.2, 0.6]), 0.01).tolist() == pytest.approx([0.01, 0.2475, 0.7425])
    assert capped(np.array([0.005, 0.995]), 0.01).tolist() == [0.005, 0.995]  # under the cap: as it was
    assert capped(np.array([0.2, 0.8]), None).tolist() == [0.2, 0.8]


def test_labelled_m_takes_no_label_from_pairs_that_disagree_on_gender() -> None:
    rows = []
    for i in range(40):  # 40 pairs sharing a landline: 30 are one person twice, 10 a husband and his wife
        born = date(1980, 1, 1 + i % 28)
        rows.append({"node": 2 * i, "phone_norm": f"+44113{i:07d}", "birth_date": born, "gender": "M"})
        wife = (
            {"birth_date": date(1970, 6, 15), "gender": "F"}
            if i >= 30
            else {"birth_date": born, "gender": "M"}
        )
        rows.append({"node": 2 * i + 1, "phone_norm": f"+44113{i:07d}", **wife})
    m = labelled_m(prepare_records(records(rows)))
    # only the 30 pairs of one person count: every dob exact, 0.5 added to each level (of 32.5)
    assert m["dob"].tolist() == pytest.approx([0.5 / 32.5] * 4 + [30.5 / 32.5])
    # the labels say nothing of how often one person's records differ in sex (those pairs were left out): the cap
    assert m["gender"].tolist() == pytest.approx([0.01, 0.99])
    # max_m_different 1 is no cap: every pair is a label, husbands and wives too (10 dobs within 10 years)
    uncapped = build_comparisons([ComparisonConfig(name="gender", kind="exact", max_m_different=1)])
    assert next(c for c in uncapped if c.name == "gender").max_m_different is None
    m = labelled_m(prepare_records(records(rows)), comparisons=uncapped)
    assert m["dob"].tolist() == pytest.approx([0.5 / 42.5, 10.5 / 42.5, 0.5 / 42.5, 0.5 / 42.5, 30.5 / 42.5])
    assert m["gender"].tolist() == pytest.approx([10.5 / 41, 30.5 / 41])


def test_a_birth_date_cap_takes_no_label_from_a_parent_and_child_sharing_a_phone() -> None:
    rows = []
    for i in range(40):  # 40 pairs sharing a landline: 30 are one man twice, 10 a father and his son
        born = date(1980, 1, 1 + i % 28)
        rows.append({"node": 2 * i, "phone_norm": f"+44113{i:07d}", "birth_date": born, "gender": "M"})
        other = date(1950, 5, 1 + i % 28) if i >= 30 else born
        rows.append({"node": 2 * i + 1, "phone_norm": f"+44113{i:07d}", "birth_date": other, "gender": "M"})
    # no cap on the birth date by default (fake_1000's duplicates have dates further apart): the 10 are labels
    m = labelled_m(prepare_records(records(rows)))
    assert m["dob"].tolist() == pytest.approx(np.array([10.5, 0.5, 0.5, 0.5, 30.5]) / 42.5)
    # capped (max_m_different), the 10 pairs 30 years apart are no label and "different" takes the cap
    dob = ComparisonConfig(name="dob", kind="birth_date", column="birth_date", max_m_different=0.01)
    m = labelled_m(prepare_records(records(rows)), comparisons=build_comparisons([dob]))
    assert m["dob"].tolist() == pytest.approx([0.01, *(0.99 * np.array([0.5, 0.5, 0.5, 30.5]) / 32)])
    assert m["gender"].tolist() == pytest.approx([0.01, 0.99])


def test_estimate_parameters_caps_m_of_different_at_every_step() -> None:
    # 100 pairs sharing a surname: 20 one person twice, 80 two people of one household (half of them a
    # man and a woman); EM alone finds the household as the matches, and learns that they differ in sex
    family = np.array([1] * 100, dtype=np.int8)
    gender = np.array([1] * 20 + [0, 1] * 40, dtype=np.int8)
    u = {"family": np.array([0.99, 0.01]), "gender": np.array([0.5, 0.5])}
    free = estimate_parameters({"family": family, "gender": gender}, u)
    assert free.m["gender"][0] == pytest.approx(0.269, abs=0.001)  # EM's fixed point: 27% of "matches" differ
    bounded = estimate_parameters({"family": family, "gender": gender}, u, max_different={"gender": 0.01})
    assert bounded.m["gender"].tolist() == pytest.approx([0.01, 0.99])


def test_estimate_parameters_keeps_the_prior_m_of_a_comparison_few_likely_matches_show() -> None:
    # 40 matches agreeing on family name and 160 non-matches that do not; the town is seen on 5 pairs only
    # (elsewhere a finer location agreed): under MIN_EM_SUPPORT expected matches, its m stays the prior
    family = np.array([1] * 40 + [0] * 160, dtype=np.int8)
    city = np.array([0] * 5 + [-1] * 195, dtype=np.int8)
    u = {"family": np.array([0.99, 0.01]), "city": np.array([0.9, 0.1])}
    fitted = estimate_parameters({"family": family, "city": city}, u)
    assert MIN_EM_SUPPORT == 10.0
    assert fitted.m["city"].tolist() == pytest.approx([0.05 / 0.95, 0.9 / 0.95])
    assert fitted.m["family"][1] == pytest.approx(0.9093, abs=1e-4)  # learnt (the prior: 0.947)
    # seen on the 40 matches (every one differs), it is learnt: from the prior's 0.05 on "different" to no
    # evidence either way (m = u: agreeing on a town never weighs against a match; people move)
    city = np.array([0] * 40 + [-1] * 160, dtype=np.int8)
    assert estimate_parameters({"family": family, "city": city}, u).m["city"].tolist() == pytest.approx(
        [0.9, 0.1]
    )


def test_monotone_pools_the_levels_whose_weights_fall_as_agreement_grows() -> None:
    u = np.array([0.8, 0.1, 0.1])
    assert monotone(np.array([0.1, 0.5, 0.4]), u).tolist() == pytest.approx([0.1, 0.45, 0.45])
    assert monotone(np.array([0.1, 0.3, 0.6]), u).tolist() == pytest.approx([0.1, 0.3, 0.6])  # in order: kept
    # agreeing on a family name weighs against (-8 bits): one block, no evidence at any level
    u = np.array([0.916, 2.5e-6, 2.5e-6, 0.0836])
    pooled = monotone(np.array([0.9995, 0.0001, 0.0001, 0.0003]), u)
    assert pooled.tolist() == pytest.approx((u / u.sum()).tolist())


def test_estimate_parameters_holds_a_name_at_a_bit_and_anchors_two_its_matches_differ_on_as_strangers() -> (
    None
):
    # 1,000 candidate pairs of one given name and no true match among them: 2% agree on their family name, fewer
    # than random pairs (8%; blocking paired the others on it), and their birth dates differ as random pairs' do.
    # EM alone takes a quarter of them for matches, on which a family name says nothing.
    given = np.full(1000, 3, dtype=np.int8)
    family = np.array([3] * 20 + [0] * 980, dtype=np.int8)
    dob_u = np.array([0.56, 0.38, 0.05, 0.008, 0.002])
    dob = np.random.default_rng(5).choice(5, size=1000, p=dob_u).astype(np.int8)
    u = {"given": np.array([0.98, 0.002, 0.002, 0.016]), "family": np.array([0.92, 0.0, 0.0, 0.08]) + 1e-6}
    two = {"given": given, "family": family}
    free = estimate_parameters(two, u)
    assert free.m["family"].tolist() == pytest.approx((u["family"] / u["family"].sum()).tolist())
    assert free.prior == pytest.approx(0.2487, abs=1e-4)
    # a name: a difference weighs a bit against (m of "different" half its u); one such field may say little here
    held = estimate_parameters(two, u, personal={"given", "family"})
    assert held.m["family"][0] == pytest.approx(u["family"][0] / 2)
    assert held.prior == pytest.approx(0.0369, abs=1e-4)
    # the family name and the birth date both held there: a wrong mode, and their prior m anchors the fit
    three, u = {**two, "dob": dob}, {**u, "dob": dob_u}
    fitted = estimate_parameters(three, u, personal={"given", "family", "dob"})
    assert fitted.m["family"].tolist() == pytest.approx([0.05 / 1.05, 0.05 / 1.05, 0.05 / 1.05, 0.9 / 1.05])
    assert fitted.m["dob"].tolist() == pytest.approx([0.05 / 1.1] * 4 + [0.9 / 1.1])
    assert fitted.prior == pytest.approx(0.0011, abs=1e-4)


@pytest.mark.parametrize(
    "contacts", [True, False], ids=["with phones and e-mails", "names, birth dates, cities"]
)
def test_a_crm_without_duplicates_is_not_merged_on_common_names_in_a_few_cities(contacts: bool) -> None:
    # 1,500 members, each with a phone, an e-mail and a birth date of their own; 12 family names, 16 given names and 5
    # cities make hundreds of pairs of one name in one city (13 pairs merged before; a new user's CRM of 2,800: 175)
    rng = np.random.default_rng(7)
    families = list("张王李陈黄刘杨赵周吴林郑")
    givens = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明")
    rows = [
        {
            "node": i,
            "family_name": families[rng.integers(12)],
            "given_name": "".join(givens[k] for k in rng.integers(16, size=1 + rng.integers(2))),
            "birth_date": date(1960, 1, 1) + timedelta(days=int(rng.integers(15000))),
            "city": ["北京", "上海", "广州", "深圳", "香港"][rng.integers(5)],
            "phone_norm": f"+86{phone}",
            "email_norm": f"m{phone}@qq.com",
        }
        for i, phone in enumerate(13_000_000_000 + rng.choice(999_999_999, 1500, replace=False))
    ]
    if not contacts:
        rows = [{k: v for k, v in row.items() if k not in ("phone_norm", "email_norm")} for row in rows]
    outcome = match_records(records(rows), settings=MatchSettings(threshold=0.9))
    assert outcome.links.height == 0


def test_max_m_different_1_lifts_ems_cap_of_an_identifier() -> None:
    def caps(*configured: ComparisonConfig) -> dict[str, float | None]:
        return {name: cap for name, cap in em_caps(build_comparisons(configured)).items() if cap is not None}

    assert caps() == {"national_id": 0.5, "email": 0.5, "phone": 0.5, "gender": 0.01}
    lifted = ComparisonConfig(name="phone", kind="code", max_m_different=1)
    assert caps(lifted) == {"national_id": 0.5, "email": 0.5, "gender": 0.01}
    kept = ComparisonConfig(name="phone", kind="exact")  # replaces the built-in one, keeps its cap
    assert caps(kept) == {"national_id": 0.5, "email": 0.5, "phone": 0.5, "gender": 0.01}


def _household_records() -> pl.DataFrame:
    """60 couples, each sharing a family name, address, town and phone; the man has a second record in 20.

    No postcode (test_match_records_keeps_a_household_apart_with_its_postcode_mapped_too adds one)."""
    rows = []
    for i in range(60):
        home = {
            "family_name": FAMILIES[i % len(FAMILIES)],
            "address": f"{i + 1} {STREETS[i % len(STREETS)]} road",
            "city": "leeds",
            "phone_norm": f"+44113{i:07d}",
        }
        husband = {
            **home,
            "given_name": MEN[i % len(MEN)],
            "gender": "M",
            "birth_date": date(1960 + i % 20, 3, 1 + i % 28),
        }
        wife = {
            **home,
            "given_name": WOMEN[i % len(WOMEN)],
            "gender": "F",
            "birth_date": date(1962 + i % 20, 9, 1 + i % 28),
        }
        rows += [{"node": 3 * i, **husband}, {"node": 3 * i + 1, **wife}]
        if i < 20:
            rows.append({"node": 3 * i + 2, **husband})
    return records(rows)


FAMILIES = (
    "smith",
    "jones",
    "taylor",
    "brown",
    "wilson",
    "evans",
    "walker",
    "wright",
    "green",
    "hall",
    "wood",
)
STREETS = ("high", "church", "station", "victoria", "manor", "park", "mill")
MEN = ("james", "john", "robert", "michael", "david", "richard", "thomas", "daniel", "paul", "mark", "george")
WOMEN = (
    "mary",
    "linda",
    "susan",
    "karen",
    "nancy",
    "lisa",
    "emily",
    "sarah",
    "anna",
    "grace",
    "alice",
    "julia",
)


def test_match_records_keeps_a_husband_and_his_wife_apart_however_much_they_share() -> None:
    outcome = match_records(_household_records(), settings=MatchSettings(threshold=0.9))
    assert sorted(outcome.links.select("left", "right").rows()) == [(3 * i, 3 * i + 2) for i in range(20)]
    assert outcome.model is not None
    # held at 1% from the start, EM no longer takes the couples for matches: none of its matches differ in sex
    assert outcome.model.parameters.m["gender"][0] == pytest.approx(1e-4, rel=0.01)  # (its floor)


def test_a_finer_location_that_agrees_stands_for_the_coarser_ones() -> None:
    home = {"address": "12 high street", "postcode": "LS1 4AP", "city": "leeds"}
    rows = [
        {"node": 0, **home},
        {"node": 1, **home},  # the same home
        {"node": 2, **home, "address": "40 mill lane"},  # another street, the same postcode
        {"node": 3, **home, "address": "40 mill lane", "postcode": "LS9 8AB"},  # the same town only
        {"node": 4, **home, "address": None},  # no address: the postcode agrees
        {"node": 5, **home, "address": "12 hihg street", "city": "york"},  # an address with a typo
        {"node": 6, "city": "york"},
    ]
    prepared = prepare_records(records(rows))
    pairs = pl.DataFrame({"left": [0] * 6, "right": [1, 2, 3, 4, 5, 6]})
    levels = comparison_levels(prepared, pairs)
    # address levels: different, >= 0.75, >= 0.9, exact; postcode (code): different, one edit, exact; -2 implied
    assert levels["address"].tolist() == [3, 0, 0, -1, 2, -1]
    assert levels["postcode"].tolist() == [-2, 2, 0, 2, -2, -1]
    # a town that differs beside an address that agrees still counts (two homes at one number in two towns)
    assert levels["city"].tolist() == [-2, -2, 2, -2, 0, 0]
    # training: no evidence wherever a finer location agrees (m and u of the pairs whose finer ones do not)
    trained = comparison_levels(prepared, pairs, nesting="training")
    assert trained["postcode"].tolist() == [-1, 2, 0, 2, -1, -1]
    assert trained["city"].tolist() == [-1, -1, 2, -1, -1, 0]
    # as they are, and without the finer comparisons, every pair has its town
    assert comparison_levels(prepared, pairs, nesting=None)["city"].tolist() == [2, 2, 2, 2, 0, 0]
    city_only = [c for c in DEFAULT_COMPARISONS if c.name not in ("address", "postcode")]
    assert comparison_levels(prepared, pairs, comparisons=city_only)["city"].tolist() == [2, 2, 2, 2, 0, 0]
    # an address compared at a looser cut of its own agrees only at similarities of 0.9 and above
    loose = build_comparisons([ComparisonConfig(name="address", kind="string", thresholds=[0.6])])
    assert comparison_levels(prepared, pairs, comparisons=loose)["postcode"].tolist() == [-2, 2, 0, 2, 2, -1]


def test_match_records_keeps_a_household_apart_with_its_postcode_mapped_too() -> None:
    # the households above with their postcode: three agreeing location fields weighed as one
    household = pl.col("node") // 3
    households = _household_records().with_columns(
        postcode=pl.format("LS{} {}AB", household % 17 + 1, household % 9)  # one per household
    )
    outcome = match_records(households, settings=MatchSettings(threshold=0.9))
    assert sorted(outcome.links.select("left", "right").rows()) == [(3 * i, 3 * i + 2) for i in range(20)]


def test_a_gender_comparison_without_the_cap_merges_the_couples_unless_two_people_are_never_linked() -> None:
    # the evidence for the cap: with it lifted (max_m_different 1), EM takes the couples for matches ...
    uncapped = build_comparisons([ComparisonConfig(name="gender", kind="exact", max_m_different=1)])
    couples = {(3 * i, 3 * i + 1) for i in range(60)}

    def linked(person_conflicts: bool) -> set[tuple[int, int]]:
        settings = MatchSettings(threshold=0.9, comparisons=uncapped, person_conflicts=person_conflicts)
        return set(
            match_records(_household_records(), settings=settings).links.select("left", "right").rows()
        )

    assert len(couples & linked(person_conflicts=False)) == 60
    # ... and the person conflict rule alone keeps them apart (their given names and their sex differ): the links
    # are the ones the cap gives, each person's two records
    assert sorted(linked(person_conflicts=True)) == [(3 * i, 3 * i + 2) for i in range(20)]


def test_two_people_are_records_whose_given_names_and_sex_or_birth_dates_differ() -> None:
    conflict = person_conflict(DEFAULT_COMPARISONS)
    assert conflict == PersonConflict("given", (("gender", 0), ("dob", 1)))
    # given: different 0, >= 0.8 1, >= 0.92 2, exact 3; dob: > 10 years 0, within 10 years 1, within a year 2,
    # one edit or swapped 3, exact 4; gender: different 0, exact 1; -1 missing on a side
    levels = {
        "given": np.array([0, 0, 0, 0, 0, 1, 3, 0, 0, -1], dtype=np.int8),
        "gender": np.array([0, 1, 1, 1, -1, 0, 0, -1, -1, 0], dtype=np.int8),
        "dob": np.array([4, 0, 1, 2, 3, 0, 0, -1, 1, 0], dtype=np.int8),
    }
    assert conflict.pairs(levels).tolist() == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    # without a given name compared, or with neither sex nor birth date, there is no rule
    assert person_conflict([c for c in DEFAULT_COMPARISONS if c.name != "given"]) is None
    assert person_conflict([c for c in DEFAULT_COMPARISONS if c.name not in ("gender", "dob")]) is None
    # a birth date compared as another kind (a year as a number) is not one of its differences
    year = build_comparisons(
        [ComparisonConfig(name="dob", kind="numeric", column="birth_date", abs_tolerance=[1])]
    )
    assert person_conflict(year) == PersonConflict("given", (("gender", 0),))
    # a sex compared as a code (M and F are one edit apart) is not one of its differences either
    code = build_comparisons([ComparisonConfig(name="gender", kind="code", column="gender")])
    assert person_conflict(code) == PersonConflict("given", (("dob", 1),))
    # off: nothing is a conflict
    assert MatchSettings(person_conflicts=False).conflict is None
    assert MatchSettings().conflict == conflict


def test_a_configured_gender_comparison_keeps_the_built_in_cap_unless_it_sets_its_own() -> None:
    kept = build_comparisons([ComparisonConfig(name="gender", kind="exact", column="gender")])
    assert next(c for c in kept if c.name == "gender").max_m_different == GENDER_MAX_M_DIFFERENT == 0.01
    own = build_comparisons(
        [ComparisonConfig(name="sex", kind="exact", column="gender", max_m_different=0.02)]
    )
    assert [c.max_m_different for c in own if c.attribute == "gender"] == [0.01, 0.02]
    with pytest.raises(ValidationError, match="greater than 0"):
        ComparisonConfig(name="gender", kind="exact", max_m_different=0)


def test_a_sex_is_m_f_or_no_evidence() -> None:
    # read as core.identity_conflicts reads it: an unknown sex, or one coded otherwise, never differs
    rows = [
        {"node": i, "gender": value}
        for i, value in enumerate(["M", " male ", "男", "F", "Female", "女", "U", "x", None])
    ]
    prepared = prepare_records(records(rows))
    assert prepared["gender"].to_list() == ["m", "m", "m", "f", "f", "f", None, None, None]


def test_a_person_conflict_rule_without_its_comparisons_is_said(caplog: pytest.LogCaptureFixture) -> None:
    given = {"name": "given", "kind": "string", "column": "given_name"}  # not of kind name: no rule
    with Warehouse(":memory:") as wh, caplog.at_level(logging.WARNING):
        build_world(wh, world_config(comparisons=[given]))
    assert (
        "dedupe.person_conflicts is on, but no comparison of the given name (kind name) stands beside one of the sex "
        "(kind exact), the birth date (kind birth_date) or one set person_conflict (an age): records of two people "
        "are not kept apart"
    ) in caplog.messages
    caplog.clear()
    with Warehouse(":memory:") as wh, caplog.at_level(logging.WARNING):
        build_world(wh, world_config())
    assert not [message for message in caplog.messages if "person_conflicts" in message]


def test_a_full_name_in_register_order_is_split_at_its_comma() -> None:
    names = [
        "Kennison, Elana M.",  # a register's order: the family name before the comma
        "Elana M. Kennison",
        "Elana Kennison M",  # a middle initial after the family name is none
        "van der Berg, Anna",  # everything before the comma is the family name
        "Smith, John, Jr.",  # a generational suffix is part of neither name
        "Smith Jr, John",
        "欧阳, 娜娜",  # Han: the family name before the comma too, written without a space
        "John Smith III",
        "john b",  # one letter is no family name
        "Madonna",
        "Søren Ødegård",  # letters no accent makes are spelt as the unaccented name writes them
        "WEIẞ, Łukasz",
    ]
    prepared = prepare_records(records([{"node": i, "full_name": name} for i, name in enumerate(names)]))
    assert prepared.select("given", "family", "full").rows() == [
        ("elana", "kennison", "elana m kennison"),
        ("elana", "kennison", "elana m kennison"),
        ("elana", "kennison", "elana kennison m"),
        ("anna", "vanderberg", "anna van der berg"),
        ("john", "smith", "john smith"),
        ("john", "smith", "john smith"),
        ("娜娜", "欧阳", "欧阳娜娜"),
        ("john", "smith", "john smith"),
        ("john", None, "john b"),
        ("madonna", None, "madonna"),
        ("soren", "odegard", "soren odegard"),
        ("lukasz", "weiss", "lukasz weiss"),
    ]


def test_a_comparison_configured_as_a_person_conflict_is_one_of_its_differences() -> None:
    # a voter register's age instead of a birth date: with the given names different, ages beyond the widest
    # tolerance make two people (a parent and a grown child at one address, of one sex)
    age = ComparisonConfig(name="age", kind="numeric", abs_tolerance=[1, 6], person_conflict=True)
    comparisons = build_comparisons([age])
    conflict = person_conflict(comparisons)
    assert conflict == PersonConflict("given", (("gender", 0), ("dob", 1), ("age", 0)))
    # age: different 0, within 6 1, within 1 2, exact 3
    levels = {
        "given": np.array([0, 0, 0, 3, -1], dtype=np.int8),
        "gender": np.array([1, 1, -1, 1, 1], dtype=np.int8),
        "dob": np.array([-1, -1, -1, -1, -1], dtype=np.int8),
        "age": np.array([0, 1, 0, 0, 0], dtype=np.int8),
    }
    assert conflict.pairs(levels).tolist() == [True, False, True, False, False]
    assert conflict.reasons(levels, 0) == ("age",)
    # not configured, an age is no difference
    unset = build_comparisons([age.model_copy(update={"person_conflict": False})])
    assert person_conflict(unset) == PersonConflict("given", (("gender", 0), ("dob", 1)))


def test_a_middle_name_as_a_person_conflict_parts_siblings_but_not_an_initial() -> None:
    # a register's middle name: siblings of one sex and age at one address differ in given and middle name; one
    # voter's records in a middle initial against the full middle name
    middle = ComparisonConfig(name="middle_name", kind="name", person_conflict=True)
    comparisons = build_comparisons([middle])
    conflict = person_conflict(comparisons)
    assert conflict is not None
    frame = pl.DataFrame(
        {
            "node": [0, 1, 2, 3],
            "given_name": ["Leo", "Max", "Leo", "Lee"],
            "family_name": ["Leaver"] * 4,
            "gender": ["M"] * 4,
            "middle_name": ["Liam", "Owen", "L", "L"],
        }
    )
    prepared = prepare_records(frame, comparisons)
    levels = comparison_levels(
        prepared, pl.DataFrame({"left": [0, 0, 1], "right": [1, 2, 3]}), None, comparisons
    )
    assert levels["middle_name"].tolist() == [0, INITIAL, 0]
    assert levels["given"].tolist() == [0, 3, 0]
    # Leo Liam and Max Owen: two people; Leo Liam and Leo L: one voter; Max Owen and Lee L: two people
    assert conflict.pairs(levels).tolist() == [True, False, True]


def test_labelled_m_takes_no_label_from_a_value_two_people_hold() -> None:
    rows = []
    for i in range(40):  # 40 landlines: 30 of one man twice; 10 of a mother and her twin sons
        phone = f"+44113{i:07d}"
        born = date(1980, 1, 1 + i % 28)
        rows.append(
            {"node": 3 * i, "phone_norm": phone, "given_name": "tom", "birth_date": born, "gender": "M"}
        )
        if i < 30:
            rows.append(
                {
                    "node": 3 * i + 1,
                    "phone_norm": phone,
                    "given_name": "tom",
                    "birth_date": born,
                    "gender": "M",
                }
            )
            continue
        rows.append(
            {"node": 3 * i + 1, "phone_norm": phone, "given_name": "bob", "birth_date": born, "gender": "M"}
        )
        rows.append(
            {
                "node": 3 * i + 2,
                "phone_norm": phone,
                "given_name": "ann",
                "birth_date": date(1950, 5, 1),
                "gender": "F",
            }
        )
    prepared = prepare_records(records(rows))
    # the mother's pairs differ in sex; the twins' pair is no conflict, but their phone is a household's: none of
    # its three pairs is a label, only the 30 of one man twice (given: different, >= 0.8, >= 0.92, exact)
    assert labelled_m(prepared, conflict=person_conflict(DEFAULT_COMPARISONS))[
        "given"
    ].tolist() == pytest.approx(np.array([0.5, 0.5, 0.5, 30.5]) / 32)
    # without the rule, the twins are taken for one person whose given names differ (the mother's pairs still
    # disagree on sex, which is no label either)
    assert labelled_m(prepared)["given"].tolist() == pytest.approx(np.array([10.5, 0.5, 0.5, 30.5]) / 42)

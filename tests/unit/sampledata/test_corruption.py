"""The adversarial difficulty: corrupted CRM re-registrations, families sharing a phone, look-alikes."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from sampledata import GenerateStats, generate
from sampledata.corruption import (
    CORRUPTIONS,
    Edit,
    Name,
    PersonName,
    Relatives,
    birth_typo,
    edited_name,
    han_transposition,
    han_typo,
    latin_transposition,
    latin_typo,
    swapped_birth,
)
from sampledata.distributions import Corruption
from sampledata.vocabulary import ENGLISH_FEMALE, ENGLISH_MALE, GIVEN, HOMOPHONES

PERSONS = 2000
CHUNK = 1000  # two chunks
SEED = 7
END = date(2026, 11, 22)


def _read_crm(root: Path) -> pl.DataFrame:
    text = (root / "crm" / "members.csv").read_bytes().decode("gbk")
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def _crm_with_persons(root: Path) -> pl.DataFrame:
    """CRM rows (exact copies dropped) with their true person."""
    truth = pl.read_csv(root / "truth" / "records.csv", infer_schema=False).filter(pl.col("source") == "crm")
    return _read_crm(root).unique(maintain_order=True).join(truth, left_on="会员编号", right_on="record_id")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _birth(column: str) -> pl.Expr:
    text = pl.col(column)
    return pl.coalesce(
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        text.str.strptime(pl.Date, "%Y/%-m/%-d", strict=False),
        text.str.strptime(pl.Date, "%Y%m%d", strict=False),
    )


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateStats, Path]:
    """The adversarial sample and the hard one it corrupts, same seed."""
    adversarial = tmp_path_factory.mktemp("adversarial")
    stats = generate(
        adversarial, customers=PERSONS, seed=SEED, end=END, chunk_size=CHUNK, difficulty="adversarial"
    )
    hard = tmp_path_factory.mktemp("hard")
    generate(hard, customers=PERSONS, seed=SEED, end=END, chunk_size=CHUNK, difficulty="hard")
    return adversarial, stats, hard


# ---------------------------------------------------------------------------------------------
# Pure edits
# ---------------------------------------------------------------------------------------------


def test_han_typo_replaces_drops_or_doubles_a_character() -> None:
    assert han_typo("伟明", 0, 0.0) == "玮明"  # the homophone a pinyin keyboard offers
    assert han_typo("伟明", 0, 0.9) == "伟铭"
    assert han_typo("伟明", 1, 0.9) == "伟"
    assert han_typo("伟", 1, 0.0) == "玮"  # a one-character name loses nothing
    assert han_typo("伟明", 2, 0.0) == "伟伟明"


def test_latin_typo_replaces_drops_or_inserts_a_letter() -> None:
    assert latin_typo("Zhang Wei", 0, 0.0, 0) == "Ahang Wei"  # a capital stays a capital
    assert latin_typo("Zhang Wei", 0, 0.0, 25) == "Ahang Wei"  # never the same letter again
    assert latin_typo("Zhang Wei", 1, 0.5, 0) == "Zhan Wei"
    assert latin_typo("Zhang Wei", 2, 0.99, 4) == "Zhang Weie"
    assert latin_typo("A Li", 1, 0.0, 1) == "B Li"  # a word of one letter is not dropped


def test_transpositions_swap_neighbours() -> None:
    assert han_transposition("伟明") == "明伟"
    assert han_transposition("伟") is None
    assert han_transposition("东东") is None
    assert latin_transposition("Zhang Wei", 0.0) == "Hzang Wei"
    assert latin_transposition("Zhang Wei", 0.99) == "Zhang Wie"
    assert latin_transposition("Lee", 0.99) == "Ele"  # never two equal letters
    assert latin_transposition("A B", 0.5) is None


def test_birth_typos_stay_real_dates() -> None:
    assert birth_typo(date(1990, 3, 7), 0.3, 1, END) == date(1991, 3, 7)  # the year's last digit
    assert birth_typo(date(1990, 3, 7), 0.5, 1, END) == date(1990, 4, 7)  # the month's
    assert birth_typo(date(1990, 3, 7), 0.9, 2, END) == date(1990, 3, 9)  # the day's
    assert birth_typo(date(1990, 3, 7), 0.0, 1, END) == date(1991, 3, 7)  # 1900 is too early: the next digit
    assert birth_typo(date(2005, 1, 1), 0.0, 3, END) == date(2008, 1, 1)  # 2035 is too late
    assert birth_typo(date(1990, 3, 27), 0.7, 1, END) == date(1990, 3, 28)  # no 37 March
    assert swapped_birth(date(1990, 3, 7)) == date(1990, 7, 3)
    assert swapped_birth(date(1990, 3, 13)) is None
    assert swapped_birth(date(1990, 3, 3)) is None


def test_edited_names_of_han_pinyin_and_english_writers() -> None:
    han = PersonName("张", "伟明", "Zhang", ("wei", "ming"), None, False, False, True)
    pinyin = PersonName("张", "伟明", "Zhang", ("wei", "ming"), None, True, False, True)
    english = PersonName("张", "伟明", "Zhang", ("wei", "ming"), ("William", "Bill"), True, False, True)
    assert [n.usual().text() for n in (han, pinyin, english)] == ["张伟明", "Zhang Weiming", "William Zhang"]

    def edit(kind: str, where: float = 0.0) -> Edit:
        return Edit(kind, 0, where, 0, "小")

    assert edited_name(han, edit("name_typo")) == ("张玮明", "name_typo")
    assert edited_name(han, edit("name_transposition")) == ("张明伟", "name_transposition")
    assert edited_name(han, edit("nickname")) == ("小明", "nickname")
    assert edited_name(han, edit("name_order")) == ("Weiming Zhang", "name_order")
    assert edited_name(pinyin, edit("name_order")) == ("Weiming Zhang", "name_order")
    assert edited_name(pinyin, edit("nickname")) == ("Xiaoming", "nickname")
    assert edited_name(english, edit("nickname")) == ("Bill Zhang", "nickname")
    assert edited_name(english, edit("name_order")) == ("Zhang William", "name_order")
    assert edited_name(english, edit("name_transposition", 0.0)) == ("Iwlliam Zhang", "name_transposition")
    one = PersonName("王", "伟", "Wang", ("wei",), None, False, False, True)
    assert edited_name(one, edit("name_transposition")) == ("王玮", "name_typo")  # nothing to swap: a typo
    assert Name("Zhang", "Wei", True, False).text() == "Wei Zhang"


def test_vocabulary_of_corruptions() -> None:
    assert set(HOMOPHONES) == {g[0] for g in GIVEN}
    assert all(char != sound for char, sound in HOMOPHONES.items())
    "".join(HOMOPHONES.values()).encode("gbk")
    assert len(ENGLISH_MALE) == len(ENGLISH_FEMALE)  # one index picks a name of either gender
    for formal, short in ENGLISH_MALE + ENGLISH_FEMALE:
        assert formal.isascii() and short.isascii() and formal != short


def test_relatives_are_disjoint_crm_persons() -> None:
    has_crm = np.arange(1000) % 10 != 0
    relatives = Relatives.draw(
        np.random.default_rng(1), has_crm, Corruption(family_phone=0.05, lookalike=0.1)
    )
    everyone = np.concatenate([relatives.head, relatives.member, relatives.original, relatives.lookalike])
    assert np.unique(everyone).size == everyone.size
    assert has_crm[everyone].all()
    assert relatives.head.size == relatives.member.size > 20
    assert relatives.original.size == relatives.lookalike.size > 50
    owner = relatives.phone_owners(np.arange(1000) + 5000)
    assert (owner[relatives.member] == relatives.head + 5000).all()
    birth = np.zeros(1000, dtype=np.int64)  # everybody born the same day
    _, born = relatives.places(np.zeros(1000, dtype=np.int64), birth)
    assert (born[relatives.lookalike] == -365).all() and (born[relatives.original] == 0).all()


# ---------------------------------------------------------------------------------------------
# Generated sample
# ---------------------------------------------------------------------------------------------


def test_adversarial_sample_is_deterministic(
    samples: tuple[Path, GenerateStats, Path], tmp_path: Path
) -> None:
    root, stats, hard = samples
    again = generate(
        tmp_path, customers=PERSONS, seed=SEED, end=END, chunk_size=CHUNK, difficulty="adversarial"
    )
    assert again.rows == stats.rows and again.corruptions == stats.corruptions
    for name in ("crm/members.csv", "payments/payments.csv", "survey/survey.csv", "truth/records.csv"):
        assert _sha256(root / name) == _sha256(tmp_path / name), name
    assert _sha256(root / "crm" / "members.csv") != _sha256(hard / "crm" / "members.csv")


def test_adversarial_is_hard_plus_corruption(samples: tuple[Path, GenerateStats, Path]) -> None:
    root, stats, hard = samples
    assert stats.rows["crm"] == _read_crm(hard).height
    for name in (
        "truth/records.csv",
        "social/social.jsonl",
        "game/sessions-00000.parquet",
        "game/sessions-00001.parquet",
    ):
        assert _sha256(root / name) == _sha256(hard / name), name
    untouched = ["会员编号", "注册时间", "更新时间", "营销同意"]
    assert _read_crm(root).select(untouched).equals(_read_crm(hard).select(untouched))


def test_counts_of_each_corruption(samples: tuple[Path, GenerateStats, Path]) -> None:
    _, stats, _ = samples
    assert list(stats.corruptions) == list(CORRUPTIONS)
    assert stats.corruptions == {
        "family_phone": 4,
        "lookalike": 28,
        "latin_name": 102,
        "name_typo": 128,
        "name_transposition": 28,
        "nickname": 61,
        "name_order": 57,
        "traditional": 144,
        "birth_typo": 83,
        "birth_swap": 11,
        "moved": 126,
        "missing_birth": 87,
        "missing_city": 117,
        "missing_email": 97,
        "missing_phone": 103,
    }


def test_family_members_share_a_phone_as_distinct_persons(samples: tuple[Path, GenerateStats, Path]) -> None:
    root, stats, hard = samples

    def shared_phones(directory: Path) -> pl.DataFrame:
        phone = pl.col("手机").str.replace_all(r"\D", "").str.slice(-11)
        return (
            _crm_with_persons(directory)
            .with_columns(phone=phone)
            .filter(pl.col("phone").str.contains(r"^1[3-9]\d{9}$") & (pl.col("phone") != "13800000000"))
            .group_by("phone")
            .agg(
                pl.col("person_id").unique(),
                surname=pl.col("姓名").str.slice(0, 1).unique(),
                city=pl.col("城市").str.strip_suffix("市").unique(),
            )
            .filter(pl.col("person_id").list.len() > 1)
            .sort("phone")
        )

    assert shared_phones(hard).is_empty()  # the hard setting has one person per real phone
    families = shared_phones(root)
    assert families.height == stats.corruptions["family_phone"] == 4
    assert families["person_id"].list.len().to_list() == [2, 2, 2, 2]  # two persons in the truth, not one
    assert families["surname"].list.len().to_list() == [1, 1, 1, 1]
    assert families["city"].list.len().to_list() == [1, 1, 1, 1]


def test_lookalikes_are_distinct_persons_born_on_other_days(
    samples: tuple[Path, GenerateStats, Path],
) -> None:
    root, stats, hard = samples

    def alike(directory: Path) -> pl.DataFrame:
        """Pairs of distinct persons whose first registrations show the same Han name and city (广州市 is 广州)."""
        first = _crm_with_persons(directory).sort("注册时间").unique("person_id", keep="first")
        first = first.filter(pl.col("姓名").str.contains(r"^\p{Han}+$"))
        first = first.with_columns(pl.col("城市").str.strip_suffix("市"))
        pairs = first.join(first, on=["姓名", "城市"], suffix="_other")
        return pairs.filter(pl.col("person_id") < pl.col("person_id_other"))

    assert alike(hard).height == 15  # what chance gives
    lookalikes = alike(root)
    # the 28 look-alikes and chance's pairs, less those where one of the two writes the name in Latin
    # letters or became someone's relative
    assert stats.corruptions["lookalike"] == 28
    assert lookalikes.height == 38
    assert (lookalikes["出生日期"] != lookalikes["出生日期_other"]).all()


def test_corruptions_show_in_the_files(samples: tuple[Path, GenerateStats, Path]) -> None:
    root, stats, hard = samples
    adversarial = _read_crm(root).unique("会员编号", maintain_order=True)
    pairs = adversarial.join(_read_crm(hard).unique("会员编号"), on="会员编号", suffix="_hard")
    names = adversarial["姓名"]
    assert names.str.contains(r"^[A-Z][a-z]+ [A-Z][a-z]+$").sum() > 100  # Zhang Wei, Wei Zhang, Bill Zhang
    assert names.str.contains(r"^[小阿]\p{Han}$").sum() > 10  # 小明, 阿明
    shorts = {short for _, short in ENGLISH_MALE + ENGLISH_FEMALE}
    assert names.str.split(" ").list.first().is_in(list(shorts)).sum() > 0

    dates = pairs.with_columns(shown=_birth("出生日期"), was=_birth("出生日期_hard"))
    swapped = dates.filter(
        (pl.col("shown") != pl.col("was"))
        & (pl.col("shown").dt.month() == pl.col("was").dt.day())
        & (pl.col("shown").dt.day() == pl.col("was").dt.month())
        & (pl.col("shown").dt.year() == pl.col("was").dt.year())
    )
    assert swapped.height == stats.corruptions["birth_swap"]
    blank = {
        "missing_birth": "出生日期",
        "missing_city": "城市",
        "missing_email": "邮箱",
        "missing_phone": "手机",
    }
    emptied = {
        kind: pairs.filter(pl.col(column).is_null() & pl.col(f"{column}_hard").is_not_null()).height
        for kind, column in blank.items()
    }
    assert emptied == {kind: stats.corruptions[kind] for kind in blank}

"""Tests for sampledata: the deterministic sample 棋牌 platform sources."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from sampledata import GenerateStats, generate
from sampledata.distributions import permute
from sampledata.formats import CRM_COLUMNS, PAYMENT_COLUMNS, SURVEY_COLUMNS
from sampledata.vocabulary import (
    GIVEN,
    PHONE_STYLES,
    SURNAMES,
    phone_variant,
    phone_variant_expr,
    to_traditional,
)

PERSONS = 5000
CHUNK = 2000  # three chunks, the last one partial
END = date(2026, 11, 22)
DAYS = 730
WINDOW_START = "2024-11-23 00:00:00"
WINDOW_END = "2026-11-22 23:59:59"


def _sha256_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _read_crm(root: Path) -> pl.DataFrame:
    text = (root / "crm" / "members.csv").read_bytes().decode("gbk")
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def _read_csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)  # polars drops a leading UTF-8 BOM


def _read_sessions(root: Path) -> pl.DataFrame:
    return pl.read_parquet(sorted((root / "game").glob("sessions-*.parquet")))


def _read_social(root: Path) -> pl.DataFrame:
    return pl.read_ndjson(root / "social" / "social.jsonl")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateStats]:
    out = tmp_path_factory.mktemp("sample")
    stats = generate(out, customers=PERSONS, seed=7, end=END, days=DAYS, chunk_size=CHUNK)
    return out, stats


# ---------------------------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------------------------


def test_phone_variant_writes_every_style() -> None:
    got = [phone_variant("13800138000", style) for style in range(len(PHONE_STYLES))]
    assert got == [
        "13800138000",
        "+86 138-0013-8000",
        "138 0013 8000",
        "8613800138000",
        "+8613800138000",
        "138-0013-8000",
    ]


@pytest.mark.parametrize(("phone", "style"), [("1380013800", 0), ("1380013800a", 1), ("13800138000", 6)])
def test_phone_variant_rejects_bad_input(phone: str, style: int) -> None:
    with pytest.raises(ValueError):
        phone_variant(phone, style)


def test_phone_variant_expr_matches_scalar_version() -> None:
    phones = ["13800138000", "19912345678", "15000000001"]
    styles = np.repeat(np.arange(len(PHONE_STYLES)), len(phones))
    df = pl.DataFrame({"phone": phones * len(PHONE_STYLES), "style": styles})
    got = df.select(phone_variant_expr(pl.col("phone"), pl.col("style"))).to_series().to_list()
    assert got == [phone_variant(p, s) for p, s in zip(df["phone"], df["style"], strict=True)]


def test_to_traditional() -> None:
    assert to_traditional("张伟") == "張偉"
    assert to_traditional("陈静") == "陳靜"
    assert to_traditional("刘艳") == "劉艷"
    assert to_traditional("王明") == "王明"  # same in both scripts


def test_vocabulary_is_gbk_encodable_and_has_traditional_forms() -> None:
    assert len(SURNAMES) >= 30 and len(GIVEN) >= 40
    for simplified, traditional, *_ in SURNAMES + GIVEN:
        assert to_traditional(simplified) == traditional
        (simplified + traditional).encode("gbk")


def test_permute_is_a_bijection() -> None:
    for domain in (7, 1000, 12_345):
        out = permute(np.arange(domain), domain, key=99)
        assert sorted(out.tolist()) == list(range(domain))
        assert not np.array_equal(out, np.arange(domain))


# ---------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------


def test_same_arguments_give_identical_files(sample: tuple[Path, GenerateStats], tmp_path: Path) -> None:
    root, stats = sample
    again = generate(tmp_path, customers=PERSONS, seed=7, end=END, days=DAYS, chunk_size=CHUNK)
    assert again.rows == stats.rows
    first, second = _sha256_tree(root), _sha256_tree(tmp_path)
    assert len(first) == 9  # 6 flat files + 3 parquet chunks
    assert first == second


def test_other_seed_gives_other_files(sample: tuple[Path, GenerateStats], tmp_path: Path) -> None:
    root, _ = sample
    generate(tmp_path, customers=PERSONS, seed=8, end=END, days=DAYS, chunk_size=CHUNK)
    first, second = _sha256_tree(root), _sha256_tree(tmp_path)
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_rerun_into_same_directory_drops_stale_chunks(tmp_path: Path) -> None:
    generate(tmp_path, customers=300, chunk_size=100)
    stats = generate(tmp_path, customers=150, chunk_size=100)
    assert sorted(p.name for p in (tmp_path / "game").iterdir()) == [
        "sessions-00000.parquet",
        "sessions-00001.parquet",
    ]
    assert _read_sessions(tmp_path).height == stats.rows["game"]


def test_zero_customers_writes_headers_only(tmp_path: Path) -> None:
    stats = generate(tmp_path, customers=0)
    assert stats.rows == {"crm": 0, "game": 0, "payments": 0, "social": 0, "survey": 0}
    assert _read_crm(tmp_path).columns == list(CRM_COLUMNS)
    assert (tmp_path / "social" / "social.jsonl").read_bytes() == b""


# ---------------------------------------------------------------------------------------------
# File layout and encodings
# ---------------------------------------------------------------------------------------------


def test_crm_is_gbk_with_exact_header(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    raw = (root / "crm" / "members.csv").read_bytes()
    header = raw.split(b"\n", 1)[0]
    expected = "会员编号,姓名,手机,邮箱,性别,出生日期,城市,省份,注册时间,更新时间,营销同意"
    assert header.decode("gbk") == expected
    with pytest.raises(UnicodeDecodeError):
        header.decode("utf-8")
    raw.decode("gbk")  # the whole file, not just the header


def test_survey_is_utf8_with_bom(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    raw = (root / "survey" / "survey.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + "问卷编号,会员编号,手机,满意度,意见,提交时间\n".encode())
    assert _read_csv(root / "survey" / "survey.csv").columns == list(SURVEY_COLUMNS)


def test_payments_sessions_social_layout(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    header = (root / "payments" / "payments.csv").read_text("utf-8").splitlines()[0]
    assert header == ",".join(PAYMENT_COLUMNS)
    assert _read_sessions(root).schema == pl.Schema(
        {
            "session_id": pl.String,
            "member_id": pl.String,
            "device_id": pl.String,
            "game_type": pl.String,
            "start_time": pl.String,
            "duration_s": pl.Int64,
            "stake": pl.Int64,
        }
    )
    first = json.loads((root / "social" / "social.jsonl").open(encoding="utf-8").readline())
    assert list(first) == ["event_id", "user", "action", "game", "ts"]
    assert list(first["user"]) == ["member_id", "device_id"]
    assert first["action"] in {"like", "share", "comment"}
    assert first["game"] in {"斗地主", "麻将", "德州扑克", "象棋", "跑得快"}


def test_survey_comments_keep_commas_and_newlines(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    comments = _read_csv(root / "survey" / "survey.csv")["意见"].drop_nulls()
    assert comments.str.contains("\n", literal=True).any()
    assert comments.str.contains(",", literal=True).any()


def test_stats_row_counts_match_files(sample: tuple[Path, GenerateStats]) -> None:
    root, stats = sample
    con = duckdb.connect()

    def count(relation: str) -> int:
        return con.sql(f"select count(*) from {relation}").fetchall()[0][0]

    assert stats.persons == PERSONS
    assert stats.rows == {
        "crm": _read_crm(root).height,
        "game": count(f"read_parquet('{root}/game/*.parquet')"),
        "payments": count(f"read_csv('{root}/payments/payments.csv', all_varchar = true)"),
        "social": count(f"read_json('{root}/social/social.jsonl')"),
        "survey": count(f"read_csv('{root}/survey/survey.csv', all_varchar = true)"),
    }


# ---------------------------------------------------------------------------------------------
# Truth and ids
# ---------------------------------------------------------------------------------------------


def _ids_per_source(root: Path) -> dict[str, pl.Series]:
    return {
        "crm": _read_crm(root)["会员编号"],
        "game": _read_sessions(root)["session_id"],
        "payments": _read_csv(root / "payments" / "payments.csv")["txn_id"],
        "social": _read_social(root)["event_id"],
        "survey": _read_csv(root / "survey" / "survey.csv")["问卷编号"],
    }


def test_truth_covers_every_non_empty_id_exactly_once(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    truth = _read_csv(root / "truth" / "records.csv")
    assert truth.columns == ["source", "record_id", "person_id"]
    assert truth.select("source", "record_id").is_duplicated().sum() == 0
    assert truth["person_id"].str.contains(r"^P\d{7}$").all()
    for source, ids in _ids_per_source(root).items():
        expected = set(ids.drop_nulls().to_list())
        assert set(truth.filter(pl.col("source") == source)["record_id"].to_list()) == expected, source


def test_repeated_ids_only_on_exact_duplicate_rows(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    crm = _read_crm(root)
    payments = _read_csv(root / "payments" / "payments.csv")
    for df, key in ((crm, "会员编号"), (payments, "txn_id")):
        with_id = df.filter(pl.col(key).is_not_null())
        assert with_id.unique().height == with_id[key].n_unique()
        assert 0 < df.height - df.unique().height < 0.02 * df.height  # a few exact duplicates
    ids = _ids_per_source(root)
    assert ids["game"].n_unique() == ids["game"].len()
    assert ids["social"].n_unique() == ids["social"].len()
    assert ids["survey"].n_unique() == ids["survey"].len()


def test_ids_continue_across_chunks(sample: tuple[Path, GenerateStats]) -> None:
    root, stats = sample
    sessions = _read_sessions(root)["session_id"]
    assert sessions.to_list() == [f"S{i:09d}" for i in range(1, stats.rows["game"] + 1)]


# ---------------------------------------------------------------------------------------------
# Time range and faults
# ---------------------------------------------------------------------------------------------


def test_timestamps_inside_window_except_future_faults(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    crm = _read_crm(root)
    sessions = _read_sessions(root)
    registered = crm["注册时间"]
    started = sessions["start_time"]
    assert registered.min() >= WINDOW_START and started.min() >= WINDOW_START
    future_crm = (registered > WINDOW_END).mean()
    future_game = (started > WINDOW_END).mean()
    assert 0 < future_crm < 0.015
    assert 0 < future_game < 0.005
    assert (crm["更新时间"] >= registered).all()
    assert (crm.filter(pl.col("注册时间") <= WINDOW_END)["更新时间"] <= WINDOW_END).all()

    local = {
        "payments": _read_csv(root / "payments" / "payments.csv")["created_at"],
        "social": _read_social(root)["ts"],
    }
    for name, ts in local.items():
        assert ts.str.ends_with("+08:00").all(), name
        assert ts.min() >= WINDOW_START.replace(" ", "T") and ts.max() <= WINDOW_END.replace(" ", "T"), name
    submitted = _read_csv(root / "survey" / "survey.csv")["提交时间"]
    assert submitted.min() >= WINDOW_START and submitted.max() <= WINDOW_END


def test_time_window_follows_end_and_days(tmp_path: Path) -> None:
    generate(tmp_path, customers=300, end=date(2025, 1, 31), days=30)
    started = _read_sessions(tmp_path)["start_time"]
    normal = started.filter(started <= "2025-01-31 23:59:59")
    assert normal.min() >= "2025-01-02 00:00:00"
    last = datetime.fromisoformat(normal.max())
    assert last.date() <= date(2025, 1, 31) and last.date() >= date(2025, 1, 31) - timedelta(days=3)


def test_crm_faults_and_placeholders_present(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    crm = _read_crm(root)
    phone, email = crm["手机"], crm["邮箱"]
    assert crm["会员编号"].null_count() > 0
    assert phone.str.contains(r"[A-Za-z]").any() or (phone.str.len_chars() < 11).any()
    assert (email.str.ends_with("@") | ~email.str.contains("@", literal=True)).any()
    assert (phone == "13800000000").sum() > 1
    assert (email == "test@test.com").sum() > 1
    assert crm["出生日期"].str.contains(r"^\d{4}/\d{1,2}/\d{1,2}$").any()
    assert crm["出生日期"].str.contains(r"^\d{8}$").any()
    assert crm["城市"].str.ends_with("市").any()


def test_real_phones_belong_to_one_person(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    truth = _read_csv(root / "truth" / "records.csv").filter(pl.col("source") == "crm")
    crm = _read_crm(root).join(truth, left_on="会员编号", right_on="record_id")
    canonical = crm.filter(pl.col("手机").str.contains(r"^1[3-9]\d{9}$") & (pl.col("手机") != "13800000000"))
    per_phone = canonical.group_by("手机").agg(pl.col("person_id").n_unique().alias("persons"))
    assert per_phone["persons"].max() == 1


def _normal_phone(col: str) -> pl.Expr:
    digits = pl.col(col).str.replace_all(r"\D", "")
    return pl.when(digits.str.len_chars() == 13).then(digits.str.slice(2)).otherwise(digits)


def test_reregistrations_include_hard_duplicates(sample: tuple[Path, GenerateStats]) -> None:
    root, _ = sample
    truth = _read_csv(root / "truth" / "records.csv").filter(pl.col("source") == "crm")
    crm = (
        _read_crm(root)
        .unique()
        .join(truth, left_on="会员编号", right_on="record_id")
        .with_columns(phone=_normal_phone("手机"), email=pl.col("邮箱").str.strip_chars().str.to_lowercase())
    )
    pairs = crm.group_by("person_id").agg("phone", "email", "姓名").filter(pl.col("phone").list.len() == 2)
    share = pairs.height / crm["person_id"].n_unique()
    assert 0.05 < share < 0.11
    differ = pairs.filter(
        (pl.col("phone").list.get(0) != pl.col("phone").list.get(1))
        & (pl.col("email").list.get(0).eq_missing(pl.col("email").list.get(1)).not_())
    )
    assert 0.1 < differ.height / pairs.height < 0.35
    traditional = pairs.filter(pl.col("姓名").list.get(0) != pl.col("姓名").list.get(1))
    assert traditional.height > 0


# ---------------------------------------------------------------------------------------------
# Rough ratios
# ---------------------------------------------------------------------------------------------


def test_ratios_roughly_as_specified(sample: tuple[Path, GenerateStats]) -> None:
    root, stats = sample
    truth = _read_csv(root / "truth" / "records.csv")
    persons = truth.group_by("source").agg(pl.col("person_id").n_unique())
    persons_with = persons.rows_by_key("source", unique=True)
    assert 0.87 < persons_with["crm"][0] / PERSONS < 0.93
    assert 0.82 < persons_with["game"][0] / PERSONS < 0.88
    assert 8 < stats.rows["game"] / PERSONS < 12
    assert 1.6 < stats.rows["payments"] / PERSONS < 2.4
    assert 0.35 < stats.rows["social"] / PERSONS < 0.65
    assert 0.08 < stats.rows["survey"] / PERSONS < 0.12

    sessions = _read_sessions(root)
    assert 0.07 < sessions["member_id"].is_null().mean() < 0.14
    assert 0 < (sessions["member_id"].is_null() & sessions["device_id"].is_null()).mean() < 0.005

    payments = _read_csv(root / "payments" / "payments.csv")
    status = payments["status"].value_counts(normalize=True).rows_by_key("status", unique=True)
    assert set(status) == {"SUCCESS", "FAILED", "PENDING", "REFUND"}
    assert 0.02 < status["FAILED"][0] < 0.045 and 0.02 < status["REFUND"][0] < 0.07
    refunds = payments.filter(pl.col("status") == "REFUND")["amount"].cast(pl.Float64, strict=False)
    assert (refunds.drop_nulls() < 0).all()
    assert 0.8 < payments["member_id"].is_not_null().mean() < 0.9
    unlinkable = pl.col("member_id").is_null() & pl.col("phone").is_null() & pl.col("email").is_null()
    assert payments.filter(unlinkable).is_empty()
    assert set(payments["currency"].unique()) == {"CNY"}
    assert set(payments["channel"].unique()) <= {"微信支付", "支付宝", "银联", "Apple Pay"}

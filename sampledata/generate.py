"""Generate a deterministic sample of a 棋牌 (online card & board game) platform's source files.

One call writes five sources plus the ground truth under ``out_dir``:

- ``crm/members.csv`` (GBK, Chinese header): one row per member registration. About 90% of
  persons registered once; about 8% of those registered again later under a new 会员编号, with the
  phone written differently (``+86 138-0013-8000``), the e-mail in another case with spaces, or the
  name in traditional characters. In about 1 of 5 re-registrations the phone has a typo *and* the
  e-mail is a different address, so exact matching cannot find the pair.
- ``game/sessions-NNNNN.parquet`` (one file per chunk): game sessions, heavy-tailed per person
  (mean about 10, 15% of persons never play). Guest sessions carry only a device id.
- ``payments/payments.csv`` (UTF-8): recharge orders with SUCCESS/FAILED/PENDING rows and REFUND
  rows (negative amount, same order_id). Rows without member_id carry a phone and/or e-mail instead.
- ``social/social.jsonl``: likes, shares and comments, about 0.5 per person, tied to played sessions.
- ``survey/survey.csv`` (UTF-8 with BOM): satisfaction answers from about 10% of persons; free text
  sometimes holds a comma or a newline inside quotes.
- ``truth/records.csv``: ``source,record_id,person_id`` for every row with a non-empty id.

Deliberate faults, which the pipeline must survive:

- CRM: ~1% exact duplicate rows; ~0.5% each of invalid phone, invalid e-mail, empty 会员编号 and
  注册时间 in the future (year 2099 or after ``end``); ~0.5% of persons use the placeholder phone
  ``13800000000`` and/or e-mail ``test@test.com``, shared by unrelated persons.
- Game: ~0.2% sessions with neither member_id nor device_id; ~0.2% starting after ``end``.
- Payments: ~0.3% non-numeric amounts, ~0.5% exact duplicate rows, ~0.2% empty txn_id.
- Survey: ~1% 满意度 outside 1-5 (``N/A``, ``6``).

All other timestamps lie in the ``days`` days ending with ``end`` (local time Asia/Shanghai, which
has no daylight saving, so the offset is always +08:00). Persons are generated in chunks: chunk k
draws only from ``np.random.default_rng([seed, k])``. Values that must be unique over the whole
data set (phones, e-mail numbers, device ids) are keyed permutations of the global person index,
and record ids are dense running numbers, so the files depend only on the arguments.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------

# (simplified, traditional, pinyin, relative frequency in %)
SURNAMES: tuple[tuple[str, str, str, float], ...] = (
    ("王", "王", "wang", 7.1),
    ("李", "李", "li", 7.0),
    ("张", "張", "zhang", 6.7),
    ("刘", "劉", "liu", 5.4),
    ("陈", "陳", "chen", 4.5),
    ("杨", "楊", "yang", 3.1),
    ("黄", "黃", "huang", 2.2),
    ("赵", "趙", "zhao", 2.0),
    ("吴", "吳", "wu", 1.9),
    ("周", "周", "zhou", 1.9),
    ("徐", "徐", "xu", 1.3),
    ("孙", "孫", "sun", 1.2),
    ("马", "馬", "ma", 1.1),
    ("朱", "朱", "zhu", 1.1),
    ("胡", "胡", "hu", 1.0),
    ("郭", "郭", "guo", 1.0),
    ("何", "何", "he", 0.9),
    ("高", "高", "gao", 0.9),
    ("林", "林", "lin", 0.9),
    ("罗", "羅", "luo", 0.9),
    ("郑", "鄭", "zheng", 0.8),
    ("梁", "梁", "liang", 0.8),
    ("谢", "謝", "xie", 0.7),
    ("宋", "宋", "song", 0.7),
    ("唐", "唐", "tang", 0.6),
    ("许", "許", "xu", 0.6),
    ("韩", "韓", "han", 0.6),
    ("冯", "馮", "feng", 0.6),
    ("邓", "鄧", "deng", 0.6),
    ("曹", "曹", "cao", 0.6),
    ("彭", "彭", "peng", 0.5),
    ("曾", "曾", "zeng", 0.5),
    ("田", "田", "tian", 0.5),
    ("董", "董", "dong", 0.5),
    ("袁", "袁", "yuan", 0.5),
    ("潘", "潘", "pan", 0.4),
    ("蒋", "蔣", "jiang", 0.4),
    ("蔡", "蔡", "cai", 0.4),
    ("余", "余", "yu", 0.4),
    ("杜", "杜", "du", 0.4),
    ("叶", "葉", "ye", 0.4),
    ("程", "程", "cheng", 0.4),
    ("苏", "蘇", "su", 0.4),
    ("魏", "魏", "wei", 0.4),
    ("吕", "呂", "lv", 0.4),
    ("丁", "丁", "ding", 0.4),
    ("任", "任", "ren", 0.4),
    ("沈", "沈", "shen", 0.4),
)

# Given-name characters (simplified, traditional, pinyin), male-leaning then female-leaning.
GIVEN_MALE: tuple[tuple[str, str, str], ...] = (
    ("伟", "偉", "wei"),
    ("强", "強", "qiang"),
    ("军", "軍", "jun"),
    ("杰", "傑", "jie"),
    ("涛", "濤", "tao"),
    ("华", "華", "hua"),
    ("飞", "飛", "fei"),
    ("鹏", "鵬", "peng"),
    ("辉", "輝", "hui"),
    ("龙", "龍", "long"),
    ("刚", "剛", "gang"),
    ("明", "明", "ming"),
    ("磊", "磊", "lei"),
    ("勇", "勇", "yong"),
    ("斌", "斌", "bin"),
    ("浩", "浩", "hao"),
    ("宇", "宇", "yu"),
    ("俊", "俊", "jun"),
    ("峰", "峰", "feng"),
    ("建", "建", "jian"),
    ("国", "國", "guo"),
    ("文", "文", "wen"),
    ("志", "志", "zhi"),
    ("超", "超", "chao"),
    ("波", "波", "bo"),
    ("东", "東", "dong"),
    ("海", "海", "hai"),
    ("鑫", "鑫", "xin"),
)
GIVEN_FEMALE: tuple[tuple[str, str, str], ...] = (
    ("静", "靜", "jing"),
    ("丽", "麗", "li"),
    ("艳", "艷", "yan"),
    ("敏", "敏", "min"),
    ("芳", "芳", "fang"),
    ("娜", "娜", "na"),
    ("秀", "秀", "xiu"),
    ("英", "英", "ying"),
    ("玲", "玲", "ling"),
    ("婷", "婷", "ting"),
    ("燕", "燕", "yan"),
    ("霞", "霞", "xia"),
    ("红", "紅", "hong"),
    ("娟", "娟", "juan"),
    ("梅", "梅", "mei"),
    ("琳", "琳", "lin"),
    ("雪", "雪", "xue"),
    ("慧", "慧", "hui"),
    ("倩", "倩", "qian"),
    ("颖", "穎", "ying"),
    ("洁", "潔", "jie"),
    ("琴", "琴", "qin"),
    ("晶", "晶", "jing"),
    ("佳", "佳", "jia"),
    ("兰", "蘭", "lan"),
    ("凤", "鳳", "feng"),
)
GIVEN: tuple[tuple[str, str, str], ...] = GIVEN_MALE + GIVEN_FEMALE
SHARE_SINGLE_GIVEN = 0.3  # share of persons with a one-character given name

TRADITIONAL: dict[str, str] = {s: t for s, t, *_ in SURNAMES + GIVEN if s != t}
_TRADITIONAL_TABLE = str.maketrans(TRADITIONAL)

# (city, province, relative weight)
CITIES: tuple[tuple[str, str, float], ...] = (
    ("北京", "北京", 9.0),
    ("上海", "上海", 9.0),
    ("广州", "广东", 8.0),
    ("深圳", "广东", 8.0),
    ("成都", "四川", 7.0),
    ("杭州", "浙江", 6.0),
    ("武汉", "湖北", 6.0),
    ("重庆", "重庆", 7.0),
    ("南京", "江苏", 5.0),
    ("西安", "陕西", 5.0),
    ("长沙", "湖南", 5.0),
    ("沈阳", "辽宁", 4.0),
    ("天津", "天津", 5.0),
    ("郑州", "河南", 5.0),
    ("济南", "山东", 4.0),
    ("哈尔滨", "黑龙江", 3.0),
    ("福州", "福建", 3.0),
    ("昆明", "云南", 3.0),
)
SHARE_CITY_SUFFIX = 0.10  # 广州 written as 广州市

# Mobile prefixes of the three mainland carriers (13x, 15x, 17x, 18x, 19x).
PHONE_PREFIXES: tuple[int, ...] = (
    130,
    131,
    132,
    133,
    134,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    170,
    171,
    173,
    175,
    176,
    177,
    178,
    180,
    181,
    182,
    183,
    184,
    185,
    186,
    187,
    188,
    189,
    191,
    193,
    195,
    196,
    197,
    198,
    199,
)
PHONE_SUFFIXES = 99_999_999  # last eight digits run 00000001..99999999, so 13800000000 never occurs
# How one phone gets written: the three parts are 138 / 0013 / 8000. Style 0 is canonical.
PHONE_STYLES: tuple[str, ...] = (
    "{}{}{}",
    "+86 {}-{}-{}",
    "{} {} {}",
    "86{}{}{}",
    "+86{}{}{}",
    "{}-{}-{}",
)
PLACEHOLDER_PHONE = "13800000000"
PLACEHOLDER_EMAIL = "test@test.com"

EMAIL_DOMAINS: tuple[str, ...] = ("163.com", "126.com", "gmail.com", "sina.com", "foxmail.com")
EMAIL_DOMAIN_P: tuple[float, ...] = (0.45, 0.2, 0.15, 0.12, 0.08)
SHARE_NO_EMAIL = 0.25
SHARE_QQ_EMAIL = 0.35  # of persons with an e-mail
QQ_FIRST = 100_000
QQ_DOMAIN = 3_000_000_000

GAME_TYPES: tuple[str, ...] = ("斗地主", "麻将", "德州扑克", "象棋", "跑得快")
GAME_P: tuple[float, ...] = (0.36, 0.28, 0.12, 0.08, 0.16)
GAME_MEDIAN_S: tuple[float, ...] = (300.0, 1200.0, 1500.0, 900.0, 240.0)
SHARE_FAVOURITE_GAME = 0.7
STAKES: tuple[int, ...] = (10, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 50000)

RECHARGE_CNY: tuple[int, ...] = (6, 30, 68, 128, 328, 648)
ODD_AMOUNT_CENTS: tuple[int, ...] = (1250, 2580, 990, 4560, 300, 1999, 8800)
SHARE_ODD_AMOUNT = 0.02
CHANNELS: tuple[str, ...] = ("微信支付", "支付宝", "银联", "Apple Pay")
CHANNEL_P: tuple[float, ...] = (0.5, 0.38, 0.05, 0.07)
STATUSES: tuple[str, ...] = ("SUCCESS", "FAILED", "PENDING", "REFUND")
ORDER_STATUS_P: tuple[float, ...] = (0.9585, 0.031, 0.0105)  # REFUND rows are added separately
BAD_AMOUNTS: tuple[str | None, ...] = ("abc", "12.5元", None)

ACTIONS: tuple[str, ...] = ("like", "share", "comment")
ACTION_P: tuple[float, ...] = (0.6, 0.25, 0.15)

COMMENT_PHRASES: tuple[str, ...] = (
    "斗地主匹配太慢",
    "希望增加更多麻将玩法",
    "客服回复很及时",
    "充值到账有点慢",
    "界面很好看",
    "经常掉线, 体验不好",
    "德州扑克的对手太强了",
    "活动奖励太少",
    "希望出一个象棋残局模式",
    "广告太多了",
    "朋友约局很方便",
    "金币消耗太快",
    "新手引导不够清楚",
    "希望支持夜间模式",
    "跑得快很好玩, 推荐给朋友了",
    "总体满意",
)
COMMENT_SEPARATORS: tuple[str, ...] = ("，", "。", "\n", ", ")
SATISFACTION_P: tuple[float, ...] = (0.06, 0.1, 0.24, 0.35, 0.25)
BAD_SATISFACTION: tuple[str, ...] = ("N/A", "6")

# Relative activity by local hour of day: quiet before dawn, lunch bump, evening peak.
HOUR_WEIGHTS: tuple[float, ...] = (
    3.0,
    2.0,
    1.2,
    0.7,
    0.5,
    0.5,
    0.8,
    1.5,
    2.2,
    2.6,
    3.0,
    3.4,
    4.2,
    4.0,
    3.4,
    3.3,
    3.4,
    3.8,
    4.4,
    5.4,
    6.5,
    7.0,
    6.4,
    4.8,
)

# ---------------------------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------------------------

SHARE_CRM = 0.90
SHARE_REREGISTERED = 0.08  # of persons with a CRM record
SHARE_HARD_DUPLICATE = 0.20  # of re-registrations: phone typo and a different e-mail


@dataclass(frozen=True)
class Difficulty:
    """How hard the CRM duplicates are to find; only thresholds change, so every setting draws the same numbers."""

    reregistered: float = SHARE_REREGISTERED  # of persons with a CRM record
    hard_duplicate: float = SHARE_HARD_DUPLICATE  # of re-registrations: phone typo and another e-mail
    moved: float = 0.15  # of re-registrations: another city
    traditional: float = 0.4  # of re-registrations: the name in traditional characters


# "hard": three times the re-registrations, most of them without any shared identifier, more moves.
DIFFICULTIES: dict[str, Difficulty] = {
    "default": Difficulty(),
    "hard": Difficulty(reregistered=0.25, hard_duplicate=0.7, moved=0.3, traditional=0.6),
}
SHARE_NON_PLAYERS = 0.15  # all of them among CRM persons; guests always play
SHARE_PLACEHOLDER = 0.005
SHARE_STILL_ACTIVE = 0.45  # persons still playing at the end; the rest churned earlier

SESSIONS_LOG_SIGMA = 1.1
SESSIONS_LOG_MU = 1.94  # gives about 10 sessions per person overall
GUEST_ACTIVITY_FACTOR = 0.4  # persons without CRM play less
SHARE_GUEST_SESSIONS_MEMBERS = 0.06  # plus all sessions of non-members: about 10% overall
SHARE_WEB_SESSIONS = 0.05  # member sessions without a device id
MAX_SESSIONS = 3000

PAY_LOGIT = 1.0  # sigmoid(1 + z) averages about 0.7 for z ~ N(0, 1)
EXTRA_ORDERS_MEAN = 2.0
SHARE_REFUND = 0.05
SHARE_FULL_REFUND = 0.7
SHARE_PAYMENT_WITH_MEMBER = 0.96  # of orders by persons with a CRM record
SOCIAL_PER_SESSION = 0.05
SHARE_SURVEY = 0.10

FAULT_CRM_EACH = 0.005
FAULT_CRM_EXACT_DUPLICATE = 0.01
FAULT_SESSION_EACH = 0.002
FAULT_PAYMENT_AMOUNT = 0.003
FAULT_PAYMENT_DUPLICATE = 0.005
FAULT_PAYMENT_NO_TXN = 0.002
FAULT_SURVEY_SCORE = 0.01

DAY = 86_400
_EPOCH = date(1970, 1, 1)

SOURCES: tuple[str, ...] = ("crm", "game", "payments", "social", "survey")
CRM_COLUMNS: tuple[str, ...] = (
    "会员编号",
    "姓名",
    "手机",
    "邮箱",
    "性别",
    "出生日期",
    "城市",
    "省份",
    "注册时间",
    "更新时间",
    "营销同意",
)
SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "member_id",
    "device_id",
    "game_type",
    "start_time",
    "duration_s",
    "stake",
)
PAYMENT_COLUMNS: tuple[str, ...] = (
    "txn_id",
    "order_id",
    "member_id",
    "phone",
    "email",
    "amount",
    "currency",
    "status",
    "channel",
    "created_at",
)
SURVEY_COLUMNS: tuple[str, ...] = ("问卷编号", "会员编号", "手机", "满意度", "意见", "提交时间")
TRUTH_COLUMNS: tuple[str, ...] = ("source", "record_id", "person_id")

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S+08:00"
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class GenerateStats:
    """What one generate() call wrote."""

    out_dir: Path
    persons: int
    rows: dict[str, int]  # rows written per source: "crm", "game", "payments", "social", "survey"


# ---------------------------------------------------------------------------------------------
# Small pure helpers
# ---------------------------------------------------------------------------------------------


def to_traditional(text: str) -> str:
    """Write the name characters this generator uses in traditional form (张伟 -> 張偉)."""
    return text.translate(_TRADITIONAL_TABLE)


def phone_variant(phone: str, style: int) -> str:
    """Write a canonical 11-digit mobile number in one of PHONE_STYLES (1: '+86 138-0013-8000')."""
    if len(phone) != 11 or not phone.isdigit():
        raise ValueError(f"not a canonical 11-digit mobile number: {phone!r}")
    if not 0 <= style < len(PHONE_STYLES):
        raise ValueError(f"style must be in 0..{len(PHONE_STYLES) - 1}, got {style}")
    return PHONE_STYLES[style].format(phone[:3], phone[3:7], phone[7:])


def phone_variant_expr(phone: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Vectorized phone_variant: write each canonical phone in its row's style."""
    parts = (phone.str.slice(0, 3), phone.str.slice(3, 4), phone.str.slice(7, 4))
    out = pl.when(style == 0).then(phone)
    for k, template in enumerate(PHONE_STYLES[1:], start=1):
        out = out.when(style == k).then(pl.format(template, *parts))
    return out.otherwise(phone)


def permute(values: np.ndarray, domain: int, key: int) -> np.ndarray:
    """Map distinct integers in [0, domain) to distinct scrambled integers in [0, domain)."""
    bits = max(2, (domain - 1).bit_length())
    mask = np.uint64((1 << bits) - 1)
    shift = np.uint64(bits // 2)
    adds = [np.uint64((key >> s) & ((1 << bits) - 1)) for s in (0, 21, 42)]
    multipliers = [np.uint64(m & ((1 << bits) - 1)) for m in (0x9E3779B1, 0x85EBCA6B, 0xC2B2AE35)]

    def scramble(x: np.ndarray) -> np.ndarray:
        # Each step is a bijection on `bits`-bit integers: add, multiply by an odd number, xorshift.
        for add, mul in zip(adds, multipliers, strict=True):
            x = ((x + add) & mask) * mul & mask
            x ^= x >> shift
        return x

    out = scramble(values.astype(np.uint64))
    outside = out >= domain
    while outside.any():  # cycle-walk back into [0, domain); at most a few rounds since domain > 2**(bits-1)
        out[outside] = scramble(out[outside])
        outside = out >= domain
    return out.astype(np.int64)


def _hex_strings(values: np.ndarray, width: int) -> pl.Series:
    """Format non-negative integers as zero-padded lowercase hex strings."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    digits = (values.astype(np.uint64)[:, None] >> shifts) & np.uint64(15)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[digits.astype(np.intp)]
    return pl.Series(np.ascontiguousarray(chars).view(f"S{width}").ravel()).cast(pl.String)


def _format_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Format record numbers as ids like M0000001; negative numbers become null."""
    s = pl.Series(numbers, dtype=pl.Int64)
    return pl.select(pl.when(s >= 0).then(pl.lit(prefix) + s.cast(pl.String).str.zfill(width))).to_series()


def _format_local(seconds: np.ndarray, fmt: str = LOCAL_FORMAT) -> pl.Series:
    """Format naive local epoch seconds with a strftime pattern."""
    return pl.from_epoch(pl.Series(seconds, dtype=pl.Int64), time_unit="s").dt.strftime(fmt)


def _format_cny(cents: np.ndarray) -> pl.Series:
    """Format signed amounts in cents as strings like 128.00 or -12.50."""
    c = pl.Series(cents, dtype=pl.Int64)
    a = c.abs()
    return pl.select(
        pl.concat_str(
            pl.when(c < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (a // 100).cast(pl.String),
            pl.lit("."),
            (a % 100).cast(pl.String).str.zfill(2),
        )
    ).to_series()


def _gather_or_null(values: pl.Series, index: np.ndarray) -> pl.Series:
    """Take values by index; negative indices give null."""
    idx = pl.Series(index, dtype=pl.Int64)
    return values.gather(pl.select(pl.when(idx >= 0).then(idx)).to_series())


def _pick(values: Sequence[str | None], index: np.ndarray) -> pl.Series:
    """Look up strings in a small vocabulary by index; negative indices give null."""
    return _gather_or_null(pl.Series(list(values), dtype=pl.String), index)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _p(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return w / w.sum()


_HOUR_P = _p(HOUR_WEIGHTS)
_SURNAME_P = _p([s[3] for s in SURNAMES])
_CITY_P = _p([c[2] for c in CITIES])
_GAME_P = _p(GAME_P)


def _local_seconds(d: date) -> int:
    return (d - _EPOCH).days * DAY


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    hour = rng.choice(24, size=n, p=_HOUR_P)
    return hour.astype(np.int64) * 3600 + rng.integers(0, 3600, size=n)


def _times_between(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Draw one timestamp in each [lo, hi] (inclusive), uniform by day and shaped by hour."""
    lo_day = lo // DAY
    span_days = hi // DAY - lo_day + 1
    day = lo_day + (rng.random(lo.size) * span_days).astype(np.int64)
    return np.clip(day * DAY + _time_of_day(rng, lo.size), lo, hi)


def _within(rng: np.random.Generator, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Draw a second uniformly in [start, start + length)."""
    return start + (rng.random(start.size) * np.maximum(length, 0)).astype(np.int64)


def _future_times(rng: np.random.Generator, n: int, window: _Window, far: float) -> np.ndarray:
    """Faulty timestamps after the window: a share `far` in year 2099, the rest up to 400 days late."""
    late = window.end + rng.integers(60, 400 * DAY, size=n)
    y2099 = _local_seconds(date(2099, 1, 1)) + rng.integers(0, 365 * DAY, size=n)
    return np.where(rng.random(n) < far, y2099, late)


def _typo_phones(rng: np.random.Generator, phones: np.ndarray) -> np.ndarray:
    """Change one of the last eight digits of each phone to another digit."""
    place = 10 ** rng.integers(0, 8, size=phones.size).astype(np.int64)
    old = (phones // place) % 10
    new = (old + rng.integers(1, 10, size=phones.size)) % 10
    return phones + (new - old) * place


def _email_variant(email: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Re-type an e-mail: other letter case and/or stray spaces (style 0 keeps it)."""
    capital = email.str.slice(0, 1).str.to_uppercase() + email.str.slice(1)
    return (
        pl.when(style == 1)
        .then(pl.lit(" ") + email + pl.lit(" "))
        .when(style == 2)
        .then(email.str.to_uppercase())
        .when(style == 3)
        .then(capital + pl.lit(" "))
        .when(style == 4)
        .then(pl.lit("  ") + email.str.to_uppercase())
        .otherwise(email)
    )


def _with_exact_duplicates(df: pl.DataFrame, rng: np.random.Generator, share: float) -> pl.DataFrame:
    """Repeat about `share` of the rows byte for byte, each copy at a random position."""
    n = df.height
    k = int(rng.binomial(n, share)) if n else 0
    if k == 0:
        return df
    copies = rng.choice(n, size=k, replace=False)
    order = np.insert(np.arange(n), rng.integers(0, n + 1, size=k), copies)
    return df[order]


# ---------------------------------------------------------------------------------------------
# Generation state
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """Naive local epoch seconds of the first and last second of the generated period."""

    start: int
    end: int

    @classmethod
    def ending(cls, end: date, days: int) -> _Window:
        return cls(_local_seconds(end - timedelta(days=days - 1)), _local_seconds(end) + DAY - 1)


@dataclass(frozen=True)
class _Keys:
    """Seed-derived keys of the permutations that make phones, e-mails and devices unique."""

    phone: int
    qq: int
    email: int
    device: int
    device_tail: int
    email_domain: int  # e-mail numbers run 0..email_domain-1; alternative addresses use the next block

    @classmethod
    def derive(cls, seed: int, customers: int) -> _Keys:
        k = np.random.default_rng([seed, 0x5EED, 1]).integers(0, 2**62, size=5)
        return cls(*(int(x) for x in k), email_domain=max(1000, 10 * customers))


@dataclass(frozen=True)
class _NextIds:
    """Next free number of each id series; ids are dense across chunks."""

    crm: int = 1
    session: int = 1
    order: int = 1
    txn: int = 1
    event: int = 1
    survey: int = 1


@dataclass(frozen=True)
class _Persons:
    """One chunk of true persons: per-person arrays plus their rendered strings."""

    n: int
    person_id: pl.Series
    has_crm: np.ndarray
    reregistered: np.ndarray
    hard_duplicate: np.ndarray
    first_seen: np.ndarray  # registration time for CRM persons
    last_active: np.ndarray
    second_registration: np.ndarray
    spend: np.ndarray  # latent willingness to pay, N(0, 1)
    n_sessions: np.ndarray
    n_devices: np.ndarray
    favourite_game: np.ndarray
    city: np.ndarray
    birth_day: np.ndarray  # days since 1970-01-01
    strings: pl.DataFrame  # name, name_trad, gender, phone, typo_phone, email, alt_email
    devices: pl.Series  # three slots per person: device id of slot k is devices[3 * person + k]


@dataclass(frozen=True)
class _Members:
    """Per person of a chunk: CRM number of the first and second registration (-1 if none)."""

    first: np.ndarray
    second: np.ndarray
    second_at: np.ndarray

    def at(self, person: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The member number each person used at time t: the newer account once it exists."""
        use_second = (self.second[person] >= 0) & (t >= self.second_at[person])
        return np.where(use_second, self.second[person], self.first[person])


@dataclass(frozen=True)
class _Sessions:
    """Clean per-session arrays in person order, for payments and social events to refer to."""

    offset: np.ndarray  # index of each person's first session
    start: np.ndarray
    duration: np.ndarray
    game: np.ndarray
    member: np.ndarray
    device: pl.Series


@dataclass(frozen=True)
class _Source:
    """One source's rows of a chunk (file column order), their truth, and the id numbers used."""

    rows: pl.DataFrame
    truth: pl.DataFrame
    used: int


# ---------------------------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------------------------


def _draw_names(rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Surname and one or two given-character indices (-1: no second character)."""
    n = female.size
    sur = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)
    lo = np.where(female, len(GIVEN_MALE), 0)
    count = np.where(female, len(GIVEN_FEMALE), len(GIVEN_MALE))
    g1 = lo + (rng.random(n) * count).astype(np.int64)
    g2 = lo + (rng.random(n) * count).astype(np.int64)
    return sur, g1, np.where(rng.random(n) < SHARE_SINGLE_GIVEN, -1, g2)


def _names(sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, column: int) -> pl.Series:
    """Full names from name-part indices; column 0 gives simplified, 1 traditional, 2 pinyin."""
    surname = _pick([s[column] for s in SURNAMES], sur)
    given = [g[column] for g in GIVEN]
    full = pl.concat_str(surname, _pick(given, g1), _pick(given, g2), ignore_nulls=True)
    return pl.select(full).to_series()


def _pinyin_emails(
    rng: np.random.Generator, sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, number: np.ndarray
) -> pl.Series:
    """Latin e-mails like weizhang123@163.com; the trailing number keeps each address unique."""
    n = sur.size
    s = _names(sur, np.full(n, -1), np.full(n, -1), 2)
    g = _names(np.full(n, -1), g1, g2, 2)
    letters = [x[2][0] for x in GIVEN]
    initials = pl.select(
        pl.concat_str(s.str.slice(0, 1), _pick(letters, g1), _pick(letters, g2), ignore_nulls=True)
    ).to_series()
    style = pl.Series(rng.integers(0, 5, size=n))
    local = pl.select(
        pl.when(style == 0)
        .then(g + s)
        .when(style == 1)
        .then(s + "." + g)
        .when(style == 2)
        .then(s + "_" + g)
        .when(style == 3)
        .then(initials)
        .otherwise(s + g)
    ).to_series()
    domain = _pick(EMAIL_DOMAINS, rng.choice(len(EMAIL_DOMAINS), size=n, p=_p(EMAIL_DOMAIN_P)))
    return pl.select(pl.concat_str(local, pl.Series(number).cast(pl.String), pl.lit("@"), domain)).to_series()


def _contacts(
    rng: np.random.Generator, index: np.ndarray, sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, keys: _Keys
) -> pl.DataFrame:
    """Each person's phone, phone with a typo, e-mail (maybe none) and an alternative e-mail."""
    n = index.size
    v = permute(index, len(PHONE_PREFIXES) * PHONE_SUFFIXES, keys.phone)
    phone = np.asarray(PHONE_PREFIXES, dtype=np.int64)[v // PHONE_SUFFIXES] * 10**8 + v % PHONE_SUFFIXES + 1
    typo_phone = _typo_phones(rng, phone)
    number = permute(index, keys.email_domain, keys.email)
    qq = pl.Series(QQ_FIRST + permute(index, QQ_DOMAIN, keys.qq)).cast(pl.String) + "@qq.com"
    pinyin = _pinyin_emails(rng, sur, g1, g2, number)
    alt_email = _pinyin_emails(rng, sur, g1, g2, number + keys.email_domain)
    has_email = rng.random(n) >= SHARE_NO_EMAIL
    is_qq = rng.random(n) < SHARE_QQ_EMAIL
    placeholder = rng.random(n) < SHARE_PLACEHOLDER
    which = rng.integers(0, 3, size=n)  # placeholder phone, e-mail, or both
    fake_phone = pl.Series(placeholder & (which != 1))
    fake_email = pl.Series(placeholder & (which != 0))
    return pl.select(
        phone=pl.when(fake_phone).then(pl.lit(PLACEHOLDER_PHONE)).otherwise(pl.Series(phone).cast(pl.String)),
        typo_phone=pl.when(fake_phone)
        .then(pl.lit(PLACEHOLDER_PHONE))
        .otherwise(pl.Series(typo_phone).cast(pl.String)),
        email=pl.when(fake_email)
        .then(pl.lit(PLACEHOLDER_EMAIL))
        .when(pl.Series(has_email))
        .then(pl.when(pl.Series(is_qq)).then(qq).otherwise(pinyin)),
        alt_email=alt_email,
    )


def _device_ids(index: np.ndarray, keys: _Keys) -> pl.Series:
    """Three device ids per person (D + 12 hex digits), unique over the whole data set."""
    slot = (index[:, None] * 3 + np.arange(3)).ravel()
    value = (permute(slot, 2**32, keys.device) << 16) | (permute(slot, 2**32, keys.device_tail) & 0xFFFF)
    return pl.select(pl.lit("D") + _hex_strings(value, 12)).to_series()


def _make_persons(
    rng: np.random.Generator,
    first: int,
    n: int,
    window: _Window,
    keys: _Keys,
    level: Difficulty = Difficulty(),
) -> _Persons:
    """Draw the true persons first..first+n-1 (0-based global index) of one chunk."""
    index = np.arange(first, first + n, dtype=np.int64)
    female = rng.random(n) < 0.45
    sur, g1, g2 = _draw_names(rng, female)
    has_crm = rng.random(n) < SHARE_CRM
    reregistered = has_crm & (rng.random(n) < level.reregistered)

    # Sign-ups grow over the period; some persons churn, the rest stay active until the end.
    n_days = (window.end - window.start + 1) // DAY
    first_day = window.start // DAY + (n_days * rng.random(n) ** (1 / 1.5)).astype(np.int64)
    first_seen = first_day * DAY + _time_of_day(rng, n)
    remaining = window.end - first_seen
    churned_at = first_seen + (remaining * rng.beta(1.2, 2.0, size=n)).astype(np.int64)
    second_at = first_seen + 3600 + (remaining * rng.beta(1.0, 1.5, size=n)).astype(np.int64)

    plays = ~has_crm | (rng.random(n) >= SHARE_NON_PLAYERS / SHARE_CRM)
    raw = rng.lognormal(SESSIONS_LOG_MU, SESSIONS_LOG_SIGMA, size=n)
    raw *= np.where(has_crm, 1.0, GUEST_ACTIVITY_FACTOR)
    age_years = 18.01 + 47.8 * rng.beta(2.0, 3.5, size=n)
    strings = pl.DataFrame(
        {
            "name": _names(sur, g1, g2, 0),
            "name_trad": _names(sur, g1, g2, 1),
            "gender": _pick(("男", "女"), female.astype(np.int64)),
        }
    ).hstack(_contacts(rng, index, sur, g1, g2, keys))
    return _Persons(
        n=n,
        person_id=_format_ids("P", index + 1, 7),
        has_crm=has_crm,
        reregistered=reregistered,
        hard_duplicate=reregistered & (rng.random(n) < level.hard_duplicate),
        first_seen=first_seen,
        last_active=np.where(rng.random(n) < SHARE_STILL_ACTIVE, window.end, churned_at),
        second_registration=np.minimum(second_at, window.end),
        spend=rng.normal(size=n),
        n_sessions=np.where(plays, np.clip(np.rint(raw), 1, MAX_SESSIONS), 0).astype(np.int64),
        n_devices=rng.choice(3, size=n, p=[0.6, 0.3, 0.1]) + 1,
        favourite_game=rng.choice(len(GAME_TYPES), size=n, p=_GAME_P),
        city=rng.choice(len(CITIES), size=n, p=_CITY_P),
        birth_day=window.end // DAY - (age_years * 365.25).astype(np.int64),
        strings=strings,
        devices=_device_ids(index, keys),
    )


def _during_sessions(
    rng: np.random.Generator, p: _Persons, sessions: _Sessions, person: np.ndarray, window: _Window
) -> tuple[np.ndarray, np.ndarray]:
    """Pick one clean session of each given person and a second within it (never after the window)."""
    session = sessions.offset[person] + (rng.random(person.size) * p.n_sessions[person]).astype(np.int64)
    start = sessions.start[session]
    return session, _within(rng, start, np.minimum(sessions.duration[session], window.end - start))


def _truth(source: str, record_id: pl.Series, person_id: pl.Series) -> pl.DataFrame:
    """Truth rows for the records that have an id."""
    return (
        pl.DataFrame({"record_id": record_id, "person_id": person_id})
        .select(pl.lit(source).alias("source"), "record_id", "person_id")
        .filter(pl.col("record_id").is_not_null())
    )


# ---------------------------------------------------------------------------------------------
# CRM
# ---------------------------------------------------------------------------------------------


def _registrations(
    p: _Persons, first_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, _Members]:
    """CRM rows as (person, kind, time, member number), numbered by time; kind 0 first, 1 again, 2 hard."""
    main = np.flatnonzero(p.has_crm)
    again = np.flatnonzero(p.reregistered)
    person = np.concatenate([main, again])
    kind = np.concatenate([np.zeros(main.size, np.int64), np.where(p.hard_duplicate[again], 2, 1)])
    registered = np.where(kind == 0, p.first_seen[person], p.second_registration[person])
    order = np.argsort(registered, kind="stable")  # member numbers grow with registration time
    person, kind, registered = person[order], kind[order], registered[order]
    number = first_id + np.arange(person.size, dtype=np.int64)
    first = np.full(p.n, -1, np.int64)
    second = np.full(p.n, -1, np.int64)
    first[person[kind == 0]] = number[kind == 0]
    second[person[kind > 0]] = number[kind > 0]
    return person, kind, registered, number, _Members(first, second, p.second_registration)


def _crm_phone() -> pl.Expr:
    """手机: the phone in the row's style (typo for hard duplicates), or a broken one."""
    phone = pl.col("phone")
    styled = phone_variant_expr(
        pl.when(pl.col("kind") == 2).then(pl.col("typo_phone")).otherwise(phone), pl.col("phone_style")
    )
    return (
        pl.when(pl.col("bad_phone") == 1)
        .then(phone.str.slice(0, 8))
        .when(pl.col("bad_phone") == 2)
        .then(phone.str.slice(0, 3) + "abcd" + phone.str.slice(7))
        .when(pl.col("bad_phone") == 3)
        .then(phone.str.slice(0, 10) + "O")
        .otherwise(styled)
    )


def _crm_email() -> pl.Expr:
    """邮箱: re-typed for re-registrations, another address for hard duplicates, or a broken one."""
    email = pl.col("email")
    return (
        pl.when(pl.col("bad_email") == 1)
        .then(email.str.replace(r"@.*$", "@").fill_null("abc@"))
        .when(pl.col("bad_email") == 2)
        .then(email.str.replace("@", ".", literal=True).fill_null("no-at-sign.com"))
        .when(pl.col("kind") == 2)
        .then(pl.col("alt_email"))
        .otherwise(_email_variant(email, pl.col("email_style")))
    )


def _birth_text() -> pl.Expr:
    """出生日期 in the row's format: 1990-03-07, 1990/3/7, 19900307 or empty."""
    birth = pl.col("birth")
    return (
        pl.when(pl.col("birth_style") == 0)
        .then(birth.dt.strftime("%Y-%m-%d"))
        .when(pl.col("birth_style") == 1)
        .then(birth.dt.strftime("%Y/%-m/%-d"))
        .when(pl.col("birth_style") == 2)
        .then(birth.dt.strftime("%Y%m%d"))
    )


def _crm(
    rng: np.random.Generator, p: _Persons, window: _Window, first_id: int, level: Difficulty = Difficulty()
) -> tuple[_Source, _Members]:
    """CRM rows (registrations, faults, exact duplicates) and the member numbers per person."""
    person, kind, registered, number, members = _registrations(p, first_id)
    n = person.size
    again = kind > 0
    updated = registered + ((window.end - registered) * rng.random(n)).astype(np.int64)
    updated = np.where(rng.random(n) < 0.3, registered, updated)
    moved = again & (rng.random(n) < level.moved)
    city = np.where(moved, rng.choice(len(CITIES), size=n, p=_CITY_P), p.city[person])
    restyled = again & (rng.random(n) < 0.6)
    phone_style = np.where(restyled, rng.integers(1, len(PHONE_STYLES), size=n), 0)
    phone_style = np.where(kind == 2, rng.integers(0, len(PHONE_STYLES), size=n), phone_style)
    email_style = np.where(again & (rng.random(n) < 0.5), rng.integers(1, 5, size=n), 0)
    traditional = again & (rng.random(n) < level.traditional)

    # Faults, each row independently.
    bad_phone = np.where(rng.random(n) < FAULT_CRM_EACH, rng.integers(1, 4, size=n), 0)
    bad_email = np.where(rng.random(n) < FAULT_CRM_EACH, rng.integers(1, 3, size=n), 0)
    no_id = rng.random(n) < FAULT_CRM_EACH
    future = rng.random(n) < FAULT_CRM_EACH
    registered = np.where(future, _future_times(rng, n, window, far=0.5), registered)
    updated = np.maximum(updated, registered)

    rows = (
        p.strings[person]
        .with_columns(
            kind=pl.Series(kind),
            phone_style=pl.Series(phone_style),
            email_style=pl.Series(email_style),
            bad_phone=pl.Series(bad_phone),
            bad_email=pl.Series(bad_email),
            birth=pl.from_epoch(pl.Series(p.birth_day[person]), time_unit="d"),
            birth_style=pl.Series(rng.choice(4, size=n, p=[0.75, 0.15, 0.05, 0.05])),
        )
        .select(
            _format_ids("M", np.where(no_id, -1, number), 7).alias("会员编号"),
            pl.when(pl.Series(traditional)).then(pl.col("name_trad")).otherwise(pl.col("name")).alias("姓名"),
            _crm_phone().alias("手机"),
            _crm_email().alias("邮箱"),
            pl.when(pl.Series(rng.random(n) >= 0.03)).then(pl.col("gender")).alias("性别"),
            _birth_text().alias("出生日期"),
            (
                _pick([c[0] for c in CITIES], city)
                + pl.when(pl.Series(rng.random(n) < SHARE_CITY_SUFFIX))
                .then(pl.lit("市"))
                .otherwise(pl.lit(""))
            ).alias("城市"),
            _pick([c[1] for c in CITIES], city).alias("省份"),
            _format_local(registered).alias("注册时间"),
            _format_local(updated).alias("更新时间"),
            _pick(("否", "是"), (rng.random(n) < 0.8).astype(np.int64)).alias("营销同意"),
        )
    )
    truth = _truth("crm", rows["会员编号"], p.person_id.gather(person))
    return _Source(_with_exact_duplicates(rows, rng, FAULT_CRM_EXACT_DUPLICATE), truth, n), members


# ---------------------------------------------------------------------------------------------
# Game, payments, social, survey
# ---------------------------------------------------------------------------------------------


def _game(
    rng: np.random.Generator, p: _Persons, members: _Members, window: _Window, first_id: int
) -> tuple[_Source, _Sessions]:
    """Game sessions (sorted by start time, with faults) and the clean arrays behind them."""
    person = np.repeat(np.arange(p.n, dtype=np.int64), p.n_sessions)
    m = person.size
    start = _times_between(rng, p.first_seen[person], p.last_active[person])
    favourite = rng.random(m) < SHARE_FAVOURITE_GAME
    game = np.where(favourite, p.favourite_game[person], rng.choice(len(GAME_TYPES), size=m, p=_GAME_P))
    duration = rng.lognormal(np.log(np.asarray(GAME_MEDIAN_S)[game]), 0.6)
    duration = np.clip(duration, 30, 4 * 3600).astype(np.int64)
    stake_level = np.rint(3.0 + 1.3 * p.spend[person] + rng.normal(0.0, 0.7, size=m))
    stake = np.asarray(STAKES, dtype=np.int64)[np.clip(stake_level, 0, len(STAKES) - 1).astype(np.int64)]

    # Mostly the first device; guests always have a device, members on the web have none.
    other_device = (p.n_devices[person] > 1) & (rng.random(m) >= 0.75)
    slot = np.where(other_device, 1 + (rng.random(m) * (p.n_devices[person] - 1)).astype(np.int64), 0)
    guest = ~p.has_crm[person] | (rng.random(m) < SHARE_GUEST_SESSIONS_MEMBERS)
    member = np.where(guest, -1, members.at(person, start))
    has_device = guest | (rng.random(m) >= SHARE_WEB_SESSIONS)
    device = _gather_or_null(p.devices, np.where(has_device, person * 3 + slot, -1))
    clean = _Sessions(np.cumsum(p.n_sessions) - p.n_sessions, start, duration, game, member, device)

    anonymous = rng.random(m) < FAULT_SESSION_EACH
    future = rng.random(m) < FAULT_SESSION_EACH
    shown_start = np.where(future, _future_times(rng, m, window, far=0.0), start)
    order = np.argsort(start, kind="stable")  # session ids follow the real start time
    rows = pl.DataFrame(
        {
            "member_id": _format_ids("M", np.where(anonymous, -1, member), 7),
            "device_id": _gather_or_null(device, np.where(anonymous, -1, np.arange(m))),
            "game_type": _pick(GAME_TYPES, game),
            "start_time": _format_local(shown_start),
            "duration_s": pl.Series(duration, dtype=pl.Int64),
            "stake": pl.Series(stake, dtype=pl.Int64),
        }
    )[order]
    rows = rows.with_columns(session_id=_format_ids("S", first_id + np.arange(m, dtype=np.int64), 9))
    rows = rows.select(SESSION_COLUMNS)
    return _Source(rows, _truth("game", rows["session_id"], p.person_id.gather(person[order])), m), clean


def _refunds(
    rng: np.random.Generator, status: np.ndarray, cents: np.ndarray, t: np.ndarray, window: _Window
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Refunds of some successful orders: (order index, refunded cents, time within a week)."""
    order = np.flatnonzero((status == 0) & (rng.random(status.size) < SHARE_REFUND))
    paid = cents[order]
    full = (rng.random(order.size) < SHARE_FULL_REFUND) | (paid < 200)
    partial = np.maximum(100, (paid * rng.uniform(0.1, 0.9, size=order.size)).astype(np.int64))
    when = _within(rng, t[order], np.minimum(7 * DAY, window.end - t[order]))
    return order, np.where(full, paid, partial), when


def _payment_contacts() -> tuple[pl.Expr, pl.Expr]:
    """phone and email columns: needed when there is no member id, sometimes given anyway."""
    no_member = pl.col("member_id").is_null()
    email_known = pl.col("email").is_not_null()
    wants_email = no_member & (pl.col("contact") > 0) & email_known
    not_email_only = pl.col("contact") != 1
    wants_phone = pl.when(no_member).then(not_email_only | ~email_known).otherwise(pl.col("phone_anyway"))
    phone = pl.when(wants_phone).then(phone_variant_expr(pl.col("phone"), pl.col("phone_style")))
    email = pl.when(wants_email).then(_email_variant(pl.col("email"), pl.col("email_style")))
    return phone, email


def _payments(
    rng: np.random.Generator,
    p: _Persons,
    members: _Members,
    sessions: _Sessions,
    window: _Window,
    ids: _NextIds,
) -> tuple[_Source, int]:
    """Payment rows (orders plus refunds, with faults) and the number of orders."""
    payer = (p.n_sessions > 0) & (rng.random(p.n) < _sigmoid(PAY_LOGIT + p.spend))
    extra = rng.poisson(EXTRA_ORDERS_MEAN * np.exp(0.8 * p.spend - 0.32))
    person = np.repeat(np.arange(p.n, dtype=np.int64), np.where(payer, 1 + extra, 0))
    _, t = _during_sessions(rng, p, sessions, person, window)
    by_time = np.argsort(t, kind="stable")  # order numbers follow time
    person, t = person[by_time], t[by_time]
    k = person.size

    tier = np.clip(np.rint(1.2 + p.spend[person] + rng.normal(size=k)), 0, len(RECHARGE_CNY) - 1)
    cents = np.asarray(RECHARGE_CNY, dtype=np.int64)[tier.astype(np.int64)] * 100
    odd = rng.random(k) < SHARE_ODD_AMOUNT
    cents = np.where(odd, rng.choice(np.asarray(ODD_AMOUNT_CENTS, dtype=np.int64), size=k), cents)
    status = rng.choice(3, size=k, p=_p(ORDER_STATUS_P))
    linked = p.has_crm[person] & (rng.random(k) < SHARE_PAYMENT_WITH_MEMBER)
    per_order = pl.DataFrame(
        {
            "member_id": _format_ids("M", np.where(linked, members.at(person, t), -1), 7),
            "order_id": _format_ids("O", ids.order + np.arange(k, dtype=np.int64), 9),
            "channel": _pick(CHANNELS, rng.choice(len(CHANNELS), size=k, p=_p(CHANNEL_P))),
            "contact": rng.choice(3, size=k, p=[0.55, 0.2, 0.25]),  # phone, e-mail, both
            "phone_style": np.where(rng.random(k) < 0.5, 0, rng.integers(1, len(PHONE_STYLES), size=k)),
            "email_style": np.where(rng.random(k) < 0.9, 0, rng.integers(1, 5, size=k)),
            "phone_anyway": rng.random(k) < 0.15,
        }
    ).hstack(p.strings.select("phone", "email")[person])

    refund, refund_cents, refund_t = _refunds(rng, status, cents, t, window)
    order = np.concatenate([np.arange(k, dtype=np.int64), refund])
    row_t = np.concatenate([t, refund_t])
    row_cents = np.concatenate([cents, -refund_cents])
    row_status = np.concatenate([status, np.full(refund.size, STATUSES.index("REFUND"))])
    by_time = np.argsort(row_t, kind="stable")
    order, row_t, row_cents = order[by_time], row_t[by_time], row_cents[by_time]
    row_status = row_status[by_time]
    n = order.size

    bad_amount = pl.Series(rng.random(n) < FAULT_PAYMENT_AMOUNT)
    bad_text = _pick(BAD_AMOUNTS, rng.integers(0, len(BAD_AMOUNTS), size=n))
    txn = np.where(rng.random(n) < FAULT_PAYMENT_NO_TXN, -1, ids.txn + np.arange(n, dtype=np.int64))
    phone, email = _payment_contacts()
    rows = per_order[order].select(
        _format_ids("T", txn, 9).alias("txn_id"),
        "order_id",
        "member_id",
        phone.alias("phone"),
        email.alias("email"),
        pl.when(bad_amount).then(bad_text).otherwise(_format_cny(row_cents)).alias("amount"),
        pl.lit("CNY").alias("currency"),
        _pick(STATUSES, row_status).alias("status"),
        "channel",
        _format_local(row_t, ISO_FORMAT).alias("created_at"),
    )
    truth = _truth("payments", rows["txn_id"], p.person_id.gather(person[order]))
    return _Source(_with_exact_duplicates(rows, rng, FAULT_PAYMENT_DUPLICATE), truth, n), k


def _social(
    rng: np.random.Generator, p: _Persons, sessions: _Sessions, window: _Window, first_id: int
) -> _Source:
    """Social events, each during one of the person's sessions, sorted by time."""
    person = np.repeat(np.arange(p.n, dtype=np.int64), rng.poisson(SOCIAL_PER_SESSION * p.n_sessions))
    session, t = _during_sessions(rng, p, sessions, person, window)
    by_time = np.argsort(t, kind="stable")
    person, session, t = person[by_time], session[by_time], t[by_time]
    k = person.size
    rows = pl.DataFrame(
        {
            "event_id": _format_ids("E", first_id + np.arange(k, dtype=np.int64), 9),
            "member_id": _format_ids("M", sessions.member[session], 7),
            "device_id": sessions.device.gather(session),
            "action": _pick(ACTIONS, rng.choice(len(ACTIONS), size=k, p=_p(ACTION_P))),
            "game": _pick(GAME_TYPES, sessions.game[session]),
            "ts": _format_local(t, ISO_FORMAT),
        }
    ).select("event_id", pl.struct("member_id", "device_id").alias("user"), "action", "game", "ts")
    return _Source(rows, _truth("social", rows["event_id"], p.person_id.gather(person)), k)


def _comments(rng: np.random.Generator, n: int) -> pl.Series:
    """Free-text survey comments; some are empty, some hold a comma or a newline."""
    first = np.where(rng.random(n) < 0.3, -1, rng.integers(0, len(COMMENT_PHRASES), size=n))
    two = (first >= 0) & (rng.random(n) < 0.4)
    second = np.where(two, rng.integers(0, len(COMMENT_PHRASES), size=n), -1)
    sep = np.where(two, rng.integers(0, len(COMMENT_SEPARATORS), size=n), -1)
    parts = (_pick(COMMENT_PHRASES, first), _pick(COMMENT_SEPARATORS, sep), _pick(COMMENT_PHRASES, second))
    return pl.select(pl.concat_str(*parts, ignore_nulls=True).replace("", None)).to_series()


def _survey(
    rng: np.random.Generator, p: _Persons, members: _Members, window: _Window, first_id: int
) -> _Source:
    """Survey answers from about SHARE_SURVEY of persons, sorted by submission time."""
    person = np.flatnonzero(rng.random(p.n) < SHARE_SURVEY)
    t = _times_between(rng, p.first_seen[person], np.full(person.size, window.end))
    by_time = np.argsort(t, kind="stable")
    person, t = person[by_time], t[by_time]
    k = person.size
    linked = p.has_crm[person] & (rng.random(k) < 0.9)
    member = _format_ids("M", np.where(linked, members.at(person, t), -1), 7)
    score = pl.Series(rng.choice(5, size=k, p=_p(SATISFACTION_P)) + 1).cast(pl.String)
    bad_score = pl.Series(rng.random(k) < FAULT_SURVEY_SCORE)
    bad_text = _pick(BAD_SATISFACTION, rng.integers(0, len(BAD_SATISFACTION), size=k))
    phone_style = pl.Series(np.where(rng.random(k) < 0.7, 0, rng.integers(1, len(PHONE_STYLES), size=k)))
    phone_given = member.is_null() | pl.Series(rng.random(k) < 0.6)
    rows = p.strings[person].select(
        _format_ids("Q", first_id + np.arange(k, dtype=np.int64), 7).alias("问卷编号"),
        member.alias("会员编号"),
        pl.when(phone_given).then(phone_variant_expr(pl.col("phone"), phone_style)).alias("手机"),
        pl.when(bad_score).then(bad_text).otherwise(score).alias("满意度"),
        _comments(rng, k).alias("意见"),
        _format_local(t).alias("提交时间"),
    )
    return _Source(rows, _truth("survey", rows["问卷编号"], p.person_id.gather(person)), k)


# ---------------------------------------------------------------------------------------------
# Chunks and files
# ---------------------------------------------------------------------------------------------


def _make_chunk(
    chunk_index: int,
    first_person: int,
    n: int,
    seed: int,
    window: _Window,
    keys: _Keys,
    ids: _NextIds,
    level: Difficulty = Difficulty(),
) -> tuple[dict[str, _Source], _NextIds]:
    """Every source's rows for persons first_person..first_person+n-1, and the next free ids."""
    rng = np.random.default_rng([seed, chunk_index])
    persons = _make_persons(rng, first_person, n, window, keys, level)
    crm, members = _crm(rng, persons, window, ids.crm, level)
    game, sessions = _game(rng, persons, members, window, ids.session)
    payments, n_orders = _payments(rng, persons, members, sessions, window, ids)
    social = _social(rng, persons, sessions, window, ids.event)
    survey = _survey(rng, persons, members, window, ids.survey)
    next_ids = _NextIds(
        crm=ids.crm + crm.used,
        session=ids.session + game.used,
        order=ids.order + n_orders,
        txn=ids.txn + payments.used,
        event=ids.event + social.used,
        survey=ids.survey + survey.used,
    )
    return {"crm": crm, "game": game, "payments": payments, "social": social, "survey": survey}, next_ids


def _header(columns: Sequence[str]) -> str:
    return ",".join(columns) + "\n"


class _Outputs:
    """The open output files of one run; CSV headers are written once, when opening."""

    def __init__(self, out_dir: Path, stack: ExitStack) -> None:
        for sub in ("crm", "game", "payments", "social", "survey", "truth"):
            (out_dir / sub).mkdir(parents=True, exist_ok=True)
        for stale in (out_dir / "game").glob("sessions-*.parquet"):  # left by an earlier, larger run
            stale.unlink()
        self.game_dir = out_dir / "game"

        def open_(rel: str, head: bytes) -> BinaryIO:
            f = stack.enter_context((out_dir / rel).open("wb"))
            f.write(head)
            return f

        self.crm = open_("crm/members.csv", _header(CRM_COLUMNS).encode("gbk"))
        self.payments = open_("payments/payments.csv", _header(PAYMENT_COLUMNS).encode())
        self.social = open_("social/social.jsonl", b"")
        self.survey = open_("survey/survey.csv", UTF8_BOM + _header(SURVEY_COLUMNS).encode())
        self.truth = open_("truth/records.csv", _header(TRUTH_COLUMNS).encode())

    def write(self, chunk_index: int, sources: dict[str, _Source]) -> None:
        """Append one chunk to every file."""
        self.crm.write(sources["crm"].rows.write_csv(include_header=False).encode("gbk"))
        sources["game"].rows.write_parquet(self.game_dir / f"sessions-{chunk_index:05d}.parquet")
        sources["payments"].rows.write_csv(self.payments, include_header=False)
        sources["social"].rows.write_ndjson(self.social)
        sources["survey"].rows.write_csv(self.survey, include_header=False)
        for source in SOURCES:
            sources[source].truth.write_csv(self.truth, include_header=False)


@contextmanager
def _outputs(out_dir: Path) -> Iterator[_Outputs]:
    with ExitStack() as stack:
        yield _Outputs(out_dir, stack)


def generate(
    out_dir: Path,
    customers: int = 2000,
    seed: int = 42,
    end: date = date(2026, 11, 22),
    days: int = 730,
    chunk_size: int = 50_000,
    difficulty: str = "default",
) -> GenerateStats:
    """Write a deterministic sample 棋牌 platform's source files under out_dir.

    difficulty: "default", or "hard" for more CRM re-registrations that share no identifier.
    """
    if customers < 0 or days < 1 or chunk_size < 1:
        raise ValueError("need customers >= 0, days >= 1 and chunk_size >= 1")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    out_dir = Path(out_dir)
    window = _Window.ending(end, days)
    keys = _Keys.derive(seed, customers)
    ids = _NextIds()
    rows = dict.fromkeys(SOURCES, 0)
    with _outputs(out_dir) as out:
        for chunk_index, first_person in enumerate(range(0, customers, chunk_size)):
            n = min(chunk_size, customers - first_person)
            sources, ids = _make_chunk(
                chunk_index, first_person, n, seed, window, keys, ids, DIFFICULTIES[difficulty]
            )
            out.write(chunk_index, sources)
            for source in SOURCES:
                rows[source] += sources[source].rows.height
    return GenerateStats(out_dir=out_dir, persons=customers, rows=rows)

"""The contracts the stages share: canonical fields, natural ids, schemes, blocking rules, hashed keys.

Mostly data: extract stages rows into the canonical fields, dedupe reads them and chooses among the
blocking rules, segment and publish agree on the schemes, erase and extract agree on how an erased
person's keys are hashed. Nothing here imports a stage.
"""

import hashlib
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

SourceKind = Literal["customers", "transactions", "events", "feedback"]


# Canonical fields per source kind, with the DuckDB type each is cast to in staging.
CANONICAL_FIELDS: dict[str, dict[str, str]] = {
    "customers": {
        "source_id": "varchar",
        "full_name": "varchar",
        "given_name": "varchar",
        "family_name": "varchar",
        "gender": "varchar",
        "birth_date": "date",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "national_id": "varchar",
        "address": "varchar",
        "city": "varchar",
        "province": "varchar",
        "postcode": "varchar",
        "country": "varchar",
        "signup_ts": "timestamptz",
        "updated_at": "timestamptz",
        "marketing_consent": "boolean",
    },
    "transactions": {
        "txn_id": "varchar",
        "order_id": "varchar",
        "customer_ref": "varchar",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "ts": "timestamptz",
        "amount": "decimal(18,2)",
        "currency": "varchar",
        "status": "varchar",
        "category": "varchar",
        "channel": "varchar",
    },
    "events": {
        "event_id": "varchar",
        "customer_ref": "varchar",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "ts": "timestamptz",
        "event_type": "varchar",
        "category": "varchar",
        "duration_s": "double",
        "value": "double",
    },
    "feedback": {
        "feedback_id": "varchar",
        "customer_ref": "varchar",
        "email": "varchar",
        "phone": "varchar",
        "device_id": "varchar",
        "ts": "timestamptz",
        "score": "double",
        "text": "varchar",
        "channel": "varchar",
    },
}


# Money. An amount is read exactly, never rounded: at most AMOUNT_DIGITS digits before the point and
# the source's amount_scale after it (more decimals quarantine the row). staging.transactions.amount is
# decimal(AMOUNT_DIGITS + scale, scale) for the largest scale of the config's sources (see amount_type).
DEFAULT_AMOUNT_SCALE = 2
MAX_AMOUNT_SCALE = 6
AMOUNT_DIGITS = 16


def amount_type(scale: int) -> str:
    """The DuckDB type of amounts with scale decimals: decimal(18,2) for the default scale 2."""
    return f"decimal({AMOUNT_DIGITS + scale},{scale})"


# The currency of amounts that state none (no `currency` mapped, no mark in the amount).
DEFAULT_CURRENCY = "CNY"
# Currency marks as Chinese and international business systems write them, before or after an amount,
# and the ISO 4217 code each stands for; a three-letter code (USD, EUR) stands for itself. ¥ and ￥
# are yuan here (a source whose ¥ means yen maps `currency: "'JPY'"`).
CURRENCY_MARKS: dict[str, str] = {
    "¥": "CNY",
    "￥": "CNY",
    "元": "CNY",
    "人民币": "CNY",
    "RMB": "CNY",
    "US$": "USD",
    "$": "USD",
    "美元": "USD",
    "HK$": "HKD",
    "港元": "HKD",
    "港币": "HKD",
    "NT$": "TWD",
    "€": "EUR",
    "欧元": "EUR",
    "£": "GBP",
    "英镑": "GBP",
    "日元": "JPY",
}

# Numbers (double fields: duration_s, value, score) are finite and at most this large in absolute
# value; anything else (inf, NaN, an overflow such as 1e400) is quarantined, so that no sum, log or
# scaler in a later stage meets an infinity.
NUMBER_LIMIT = 1e15
# An event's duration_s is at least 0 and at most this (31 days): a negative one is a clock or subtraction
# fault, a longer one a stuck session or milliseconds read as seconds (a 45-minute session in ms is 31 "days").
MAX_DURATION_S = 31 * 86_400
# What the duration rule is (tasks.extract.load_state hashes it for events sources that map duration_s)
DURATION_RULE = f"duration_s within 0 and {MAX_DURATION_S}: 1"


# Fields a row cannot be staged without; rows missing them go to quarantine.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("source_id",),
    "transactions": ("ts", "amount"),
    "events": ("ts",),
    "feedback": ("ts",),
}


# Fields that identify the customer behind a transaction, event or feedback row.
IDENTIFIER_FIELDS = ("email", "phone", "device_id")


# Canonical transaction statuses. Failed and pending payments never count as purchases;
# refunded and cancelled rows are netted into their order as negative amounts.
TRANSACTION_STATUSES = ("paid", "refunded", "cancelled", "failed", "pending")


# Segment schemes of published.segment_changes (see sql/published/segment_memberships.sql).
SEGMENT_SCHEMES = ("rfm", "rfm_cn", "tier", "lifecycle", "rules", "cluster")
# The segments of the schemes whose values are codes (value_tier, lifecycle_stage, risk_tier), best to worst
SEGMENT_CODES: dict[str, tuple[str, ...]] = {
    "tier": ("high", "medium", "low", "none"),
    "lifecycle": ("new", "active", "sleeping", "churned", "never_purchased"),
    "risk": ("high", "medium", "low"),
}


# Birth dates on or before this are implausible (config: dedupe.earliest_birth_date). Generous, so that
# records of historical people keep their strongest field; placeholders (1900-01-01 ...) never count.
EARLIEST_BIRTH_DATE = date(1000, 1, 1)

PII_FIELDS = ("email", "phone", "full_name", "birth_date", "national_id", "address", "device_id")

# The natural id of each kind: rows sharing it are one row (dropped) or a conflict (quarantined).
ID_FIELDS = {
    "customers": "source_id",
    "transactions": "txn_id",
    "events": "event_id",
    "feedback": "feedback_id",
}
# Kinds whose rows are facts about a customer (they point at one), as opposed to customer records.
FACT_KINDS = ("transactions", "events", "feedback")

# Segment scheme (as named in published.segment_changes and segments.stability) -> its column in
# segments.customer_segments (an allowlist for SQL).
SCHEME_COLUMNS: dict[str, str] = {
    "rfm": "rfm_segment",
    "rfm_cn": "rfm_cn_class_en",
    "tier": "value_tier",
    "lifecycle": "lifecycle_stage",
    "cluster": "cluster_id",
    "rules": "rule_segments",
}

# Blocking rules of the probabilistic matcher: name -> prepared columns that must all be equal (and
# present) for a pair. The config chooses among these names (dedupe.blocking_rules).
BLOCKING_RULES: dict[str, tuple[str, ...]] = {
    "name_dob": ("family", "given", "dob"),
    "name_city": ("family", "given", "city"),
    "dob_family_initial": ("dob", "family1"),
    "dob_given_initial": ("dob", "given1"),
    "dob_city": ("dob", "city"),
    "family_given_initial_postcode": ("family", "given1", "postcode"),
    "given_family_initial_postcode": ("given", "family1", "postcode"),
    "year_family_given_initial": ("dob_year", "family", "given1"),
    "monthday_family_given_initial": ("dob_monthday", "family", "given1"),
    "national_id": ("national_id",),
    "email_local": ("email_local",),
    "phone_head_name": ("phone_head", "family", "given"),
    "address_postcode": ("address", "postcode"),
    "pinyin_dob": ("pinyin", "dob"),  # a name in Han characters and in Latin letters (张伟, Wei Zhang)
    "pinyin_city": ("pinyin", "city"),
    # wide rules: many more pairs per record; for small, very noisy sources (see config/linkage/fake_1000.yaml)
    "dob": ("dob",),
    "name": ("family", "given"),
    "monthday_family": ("dob_monthday", "family"),
    "family_year": ("family", "dob_year"),
    "given_year": ("given", "dob_year"),
    "family_given_initial": ("family", "given1"),
    "given_family_initial": ("given", "family1"),
    "city_year_given_initial": ("city", "dob_year", "given1"),
    "family": ("family",),
    "given": ("given",),
    "city_family": ("city", "family"),
    "city_given": ("city", "given"),
    "postcode": ("postcode",),
    "phone": ("phone",),
    "address": ("address",),
}
WIDE_RULES = frozenset(
    (
        "dob",
        "name",
        "monthday_family",
        "family_year",
        "given_year",
        "family_given_initial",
        "given_family_initial",
        "city_year_given_initial",
        "family",
        "given",
        "city_family",
        "city_given",
        "postcode",
        "phone",
        "address",
    )
)
DEFAULT_BLOCKING = tuple(rule for rule in BLOCKING_RULES if rule not in WIDE_RULES)


# Canonical customer fields a comparison may read -> the matcher's prepared column (email: its local part,
# for the email kind; tasks.dedupe.comparisons.Comparison.column).
COMPARED_FIELDS: dict[str, str] = {
    "given_name": "given",
    "family_name": "family",
    "full_name": "full",
    "birth_date": "dob",
    "email": "email_local",
    "phone": "phone",
    "national_id": "national_id",
    "address": "address",
    "city": "city",
    "province": "province",
    "postcode": "postcode",
    "gender": "gender",
    "country": "country",
}
# Compared as numbers (days for dates): their values are also blocked by coarse buckets.
NUMBER_KINDS = frozenset({"date", "numeric"})
# Names the matcher's records and parameters use for themselves: no match column or comparison takes them.
RESERVED_MATCH_NAMES = frozenset(
    {"node", "record_source", "record_id", "email_norm", "phone_norm", "name_key", "prior", "pinyin"}
)


def comparison_rules(comparisons: list[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Blocking rules on the configured comparisons of match columns ((name, kind) each; prepared column
    c_<name>): each alone, each two together, a date or number by the coarse buckets of two offset grids
    (c_<name>__1, __2) beside another's exact value or both by buckets, a free text by each of its words."""
    rules: dict[str, tuple[str, ...]] = {}
    keyed = [(name, kind) for name, kind in comparisons if kind != "text"]
    for name, _ in keyed:
        rules[name] = (f"c_{name}",)
    for index, (a, a_kind) in enumerate(keyed):
        for b, b_kind in keyed[index + 1 :]:
            rules[f"{a}_{b}"] = (f"c_{a}", f"c_{b}")
            for grid in (1, 2):
                if b_kind in NUMBER_KINDS:
                    rules[f"{a}_near_{b}_{grid}"] = (f"c_{a}", f"c_{b}__{grid}")
                if a_kind in NUMBER_KINDS:
                    rules[f"near_{a}_{b}_{grid}"] = (f"c_{a}__{grid}", f"c_{b}")
                if a_kind in NUMBER_KINDS and b_kind in NUMBER_KINDS:
                    rules[f"near_{a}_near_{b}_{grid}"] = (f"c_{a}__{grid}", f"c_{b}__{grid}")
    for name, kind in comparisons:
        if kind == "text":
            rules[f"{name}{TOKEN_RULE}"] = (f"c_{name}",)
    return rules


TOKEN_RULE = "_tokens"  # suffix of a rule whose key is one word of a free text (one block per word)


def end_of_day(as_of: date, timezone: str) -> datetime:
    """The exclusive end of day as_of in a time zone: data at or after it is not used for as_of."""
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))


def sha256_hex(value: str | None) -> str | None:
    """Hex SHA-256 of a string (None stays None)."""
    return None if value is None else hashlib.sha256(value.encode("utf-8")).hexdigest()


def record_key(source: str, source_id: str) -> str:
    """The hashed key of a customer record, as erase keeps it and extract drops it on a reload."""
    return sha256_hex(f"{source}|{source_id}") or ""


# Text that stands for no value: never a match key (tasks.dedupe.normalize), never a customer_ref (a payment
# whose member id a SQL client exported as NULL names nobody: tasks.extract.id_checks).
PLACEHOLDER_TEXT = frozenset(
    {"", "-", "--", "n/a", "na", "null", "none", "nil", "未知", "无", "暂无", "不详", "0", "?", "/", "."}
)

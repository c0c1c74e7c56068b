"""How the files are laid out and values written: source names, column orders, timestamps, ids, amounts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

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
# truth/lifetimes.csv: what each person's behaviour was drawn from (local times, as the sources write them).
LIFETIME_COLUMNS: tuple[str, ...] = (
    "person_id",
    "first_seen",
    "churned_at",
    "payer",
    "orders",
    "orders_per_active_day",
)

LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S"
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S+08:00"


def hex_strings(values: np.ndarray, width: int) -> pl.Series:
    """Format non-negative integers as zero-padded lowercase hex strings."""
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint64) * np.uint64(4)
    digits = (values.astype(np.uint64)[:, None] >> shifts) & np.uint64(15)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[digits.astype(np.intp)]
    return pl.Series(np.ascontiguousarray(chars).view(f"S{width}").ravel()).cast(pl.String)


def format_ids(prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Format record numbers as ids like M0000001; negative numbers become null."""
    s = pl.Series(numbers, dtype=pl.Int64)
    return pl.select(pl.when(s >= 0).then(pl.lit(prefix) + s.cast(pl.String).str.zfill(width))).to_series()


def format_local(seconds: np.ndarray, fmt: str = LOCAL_FORMAT) -> pl.Series:
    """Format naive local epoch seconds with a strftime pattern."""
    return pl.from_epoch(pl.Series(seconds, dtype=pl.Int64), time_unit="s").dt.strftime(fmt)


def format_cny(cents: np.ndarray) -> pl.Series:
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


def gather_or_null(values: pl.Series, index: np.ndarray) -> pl.Series:
    """Take values by index; negative indices give null."""
    idx = pl.Series(index, dtype=pl.Int64)
    return values.gather(pl.select(pl.when(idx >= 0).then(idx)).to_series())


def pick(values: Sequence[str | None], index: np.ndarray) -> pl.Series:
    """Look up strings in a small vocabulary by index; negative indices give null."""
    return gather_or_null(pl.Series(list(values), dtype=pl.String), index)

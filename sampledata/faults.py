"""Deliberate faults the pipeline must survive: their rates, bad values, late timestamps, exact duplicate rows."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from sampledata.distributions import DAY, Window, local_seconds

SHARE_PLACEHOLDER = 0.005  # persons giving the placeholder phone and/or e-mail
FAULT_CRM_EACH = 0.005
FAULT_CRM_EXACT_DUPLICATE = 0.01
FAULT_SESSION_EACH = 0.002
FAULT_PAYMENT_AMOUNT = 0.003
FAULT_PAYMENT_DUPLICATE = 0.005
FAULT_PAYMENT_NO_TXN = 0.002
FAULT_SURVEY_SCORE = 0.01

BAD_AMOUNTS: tuple[str | None, ...] = ("abc", "12.5块", None)  # 12.5元 is an amount in yuan
BAD_SATISFACTION: tuple[str, ...] = ("N/A", "6")


def future_times(rng: np.random.Generator, n: int, window: Window, far: float) -> np.ndarray:
    """Faulty timestamps after the window: a share `far` in year 2099, the rest up to 400 days late."""
    late = window.end + rng.integers(60, 400 * DAY, size=n)
    y2099 = local_seconds(date(2099, 1, 1)) + rng.integers(0, 365 * DAY, size=n)
    return np.where(rng.random(n) < far, y2099, late)


def with_exact_duplicates(df: pl.DataFrame, rng: np.random.Generator, share: float) -> pl.DataFrame:
    """Repeat about `share` of the rows byte for byte, each copy at a random position."""
    n = df.height
    k = int(rng.binomial(n, share)) if n else 0
    if k == 0:
        return df
    copies = rng.choice(n, size=k, replace=False)
    order = np.insert(np.arange(n), rng.integers(0, n + 1, size=k), copies)
    return df[order]

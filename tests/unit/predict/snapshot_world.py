"""Synthetic snapshot frames with the columns of sql/predict/snapshots.sql, for the model and backtest tests."""

import numpy as np
import polars as pl

from tests.unit.predict.btyd_world import simulate_bgnbd

GAMES = ("doudizhu", "mahjong", "poker")


def snapshot_frame(
    customers: int,
    seed: int,
    churn_midpoint: float = 120.0,
    snapshot: int = 1,
    churn_rate: float | None = None,
) -> pl.DataFrame:
    """Payers whose churn (no purchase and no session in the horizon after) depends on recency alone.

    P(churn) = 1 / (1 + exp(-(recency_days - churn_midpoint) / 10)), or `churn_rate` for everyone if given.
    The buy-till-you-die histories (x repeat days, t_x, T; recency = T - t_x) are drawn from a BG/NBD.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(30, 400, customers)  # T: days since the first purchase
    frequency, last = simulate_bgnbd(0.5, 20.0, 0.7, 3.0, age.astype(float), rng)
    x = frequency.astype(np.int64)  # repeat purchase days
    span = np.floor(last).astype(np.int64)  # t_x
    recency = age - span
    purchases = x + 1 + rng.poisson(0.5, customers)
    spend = np.round(purchases * rng.gamma(4.0, 10.0, customers), 2)
    first_day_spend = np.round(spend / (x + 1), 2)
    p_churn = (
        np.full(customers, churn_rate)
        if churn_rate is not None
        else 1 / (1 + np.exp(-(recency - churn_midpoint) / 10))
    )
    churned = rng.random(customers) < p_churn
    future_purchases = np.where(churned, 0, 1 + rng.poisson(1.0, customers))
    sessions = rng.poisson(20, customers)
    session_recency = np.minimum(recency, rng.integers(0, 30, customers))
    tenure = age + rng.integers(0, 60, customers)
    games = rng.choice([*GAMES, ""], customers)
    return pl.DataFrame(
        {
            "snapshot": np.full(customers, snapshot),
            "customer_id": [f"S{seed}-{i:05d}" for i in range(customers)],
            "recency_days": recency,
            "purchases": purchases,
            "purchase_days": x + 1,
            "spend": spend,
            "spend_per_purchase": spend / purchases,
            "purchases_last": rng.poisson(1.0, customers),
            "purchases_previous": rng.poisson(1.0, customers),
            "spend_last": np.round(rng.gamma(2.0, 20.0, customers), 2),
            "spend_previous": np.round(rng.gamma(2.0, 20.0, customers), 2),
            "session_recency_days": session_recency,
            "sessions": sessions,
            "sessions_last": rng.poisson(5, customers),
            "sessions_previous": rng.poisson(5, customers),
            "session_minutes_last": rng.gamma(2.0, 30.0, customers),
            "favourite_game": [str(g) or None for g in games],
            "tenure_days": tenure,
            "purchase_rate_30d": (x + 1) * 30.0 / (age + 1),
            "session_rate_30d": sessions * 30.0 / (tenure + 1),
            "repeat_purchase_days": x,
            "purchase_span_days": span,
            "purchase_age_days": age,
            "repeat_spend": [
                float(value) if repeat else None
                for value, repeat in zip((spend - first_day_spend) / np.maximum(x, 1), x > 0, strict=True)
            ],
            "future_purchases": future_purchases,
            "future_purchase_days": np.minimum(future_purchases, 1),
            "future_spend": np.round(future_purchases * rng.gamma(4.0, 10.0, customers), 2),
            "future_sessions": np.where(churned, 0, rng.poisson(5, customers)),
        },
        schema_overrides={"favourite_game": pl.String, "repeat_spend": pl.Float64},
    )

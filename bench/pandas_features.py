"""The features + RFM stage written in plain pandas, for the side-by-side with the DuckDB SQL models.

Same definitions as sql/features/orders.sql, sql/features/customer_features.sql and
sql/segments/rfm_scores.sql: failed and pending payments excluded, refunds and cancellations netted
into their order, an order belongs to whoever made its first purchase row, only rows before the end
of as_of in the configured time zone, calendar days in that zone, RFM scores
1 + floor(5 * (rank - 1) / n) with tied values sharing the lowest rank. Amounts are whole cents
(int64), so sums are exact like SQL's decimals.
"""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from tasks.shared.warehouse import Warehouse

# The inputs, read from the warehouse as they are (the joins and filters are the pandas side's work).
INPUTS = {
    "transactions": """
        select source, order_id, txn_id, _file, _row, ts, status,
            cast(round(amount * 100) as bigint) as cents, record_source, record_id
        from core.transactions
    """,
    "events": "select ts, event_type, category, duration_s, record_source, record_id from core.events",
    "feedback": "select ts, score, record_source, record_id from core.feedback",
    "identity": "select source, source_id, customer_id from core.identity_map",
    "customers": "select customer_id, first_seen, marketing_consent from core.customers",
    "rules": "select * from segments.rfm_segment_rules",
}
WINDOWS = (30, 90, 180)


def load_inputs(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """The stage's inputs as pandas frames (timestamps tz-aware in the warehouse's time zone)."""
    return {name: wh.con.execute(sql).df() for name, sql in INPUTS.items()}


def _with_customer(facts: pd.DataFrame, identity: pd.DataFrame, cutoff: datetime) -> pd.DataFrame:
    """Fact rows before cutoff joined to the customer of their record."""
    facts = facts[facts["ts"] < cutoff]
    ids = identity.rename(columns={"source": "record_source", "source_id": "record_id"})
    return facts.merge(ids, on=["record_source", "record_id"], how="inner")


def _local_date(ts: pd.Series, timezone: str) -> pd.Series:
    """Calendar day of each timestamp in the time zone, as datetime64 at midnight."""
    return ts.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()


def orders(inputs: dict[str, pd.DataFrame], cutoff: datetime, timezone: str) -> pd.DataFrame:
    """features.orders: one row per (source, order_key), net of refunds."""
    tx = inputs["transactions"]
    tx = tx[~tx["status"].fillna("paid").isin(["failed", "pending"])]
    tx = _with_customer(tx, inputs["identity"], cutoff)
    position = tx["_file"] + ":" + tx["_row"].astype(str)
    tx = tx.assign(
        order_key=tx["order_id"].fillna(tx["txn_id"]).fillna(position),
        signed=np.where(tx["status"].isin(["refunded", "cancelled"]), -tx["cents"].abs(), tx["cents"]),
    )
    tx = tx.assign(purchase=tx["signed"] > 0)
    # first purchase row of each order, else its first row
    first = (
        tx.sort_values(["source", "order_key", "purchase", "ts"], ascending=[True, True, False, True])
        .drop_duplicates(["source", "order_key"])
        .set_index(["source", "order_key"])
    )
    totals = tx.groupby(["source", "order_key"]).agg(
        net_cents=("signed", "sum"), transactions=("signed", "size")
    )
    result = totals.join(first[["customer_id", "ts"]].rename(columns={"ts": "order_ts"}))
    result["order_date"] = _local_date(result["order_ts"], timezone)
    return result.reset_index()


def customer_features(
    inputs: dict[str, pd.DataFrame],
    order_rows: pd.DataFrame,
    as_of: date,
    cutoff: datetime,
    timezone: str,
    session_types: list[str],
) -> pd.DataFrame:
    """features.customer_features: one row per customer as of the day."""
    day = pd.Timestamp(as_of)
    bought = order_rows[order_rows["net_cents"] > 0]
    purchases = bought.groupby("customer_id").agg(
        frequency=("net_cents", "size"),
        first_purchase_date=("order_date", "min"),
        last_purchase_date=("order_date", "max"),
    )
    purchases["monetary_cents"] = order_rows.groupby("customer_id")["net_cents"].sum()
    for days in WINDOWS:
        purchases[f"payments_{days}d"] = (
            bought[bought["order_date"] > day - timedelta(days=days)].groupby("customer_id").size()
        )

    events = _with_customer(inputs["events"], inputs["identity"], cutoff)
    events = events.assign(event_date=_local_date(events["ts"], timezone))
    is_session = events["event_type"].isin(session_types)
    played = events[is_session]
    sessions = played.groupby("customer_id").agg(
        sessions_total=("event_date", "size"), last_session_date=("event_date", "max")
    )
    for days in WINDOWS:
        sessions[f"sessions_{days}d"] = (
            played[played["event_date"] > day - timedelta(days=days)].groupby("customer_id").size()
        )
    recent = played[played["event_date"] > day - timedelta(days=90)]
    sessions["session_minutes_90d"] = recent.groupby("customer_id")["duration_s"].sum() / 60.0
    plays = played[played["category"].notna()].groupby(["customer_id", "category"]).size().rename("plays")
    favourite = (
        plays.reset_index()
        .sort_values(["customer_id", "plays", "category"], ascending=[True, False, True])
        .drop_duplicates("customer_id")
        .set_index("customer_id")["category"]
        .to_frame("favourite_game")
    )
    engaged = events[events["event_type"].notna() & ~is_session]
    engagement = pd.DataFrame(
        {
            "engagements_total": engaged.groupby("customer_id").size(),
            "last_event_date": events.groupby("customer_id")["event_date"].max(),
        }
    )
    feedback = _with_customer(inputs["feedback"], inputs["identity"], cutoff)
    satisfaction = feedback.groupby("customer_id").agg(
        avg_feedback_score=("score", "mean"), feedback_count=("score", "size")
    )

    out = inputs["customers"].set_index("customer_id")
    out = out.join([purchases, sessions, favourite, engagement, satisfaction])
    scored = out["frequency"] > 0
    counts = [f"payments_{d}d" for d in WINDOWS] + [f"sessions_{d}d" for d in WINDOWS]
    counts += ["sessions_total", "engagements_total", "feedback_count"]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["session_minutes_90d"] = out["session_minutes_90d"].fillna(0.0)
    out["recency_days"] = ((day - out["last_purchase_date"]).dt.days).where(scored)
    out["frequency"] = out["frequency"].where(scored)
    out["monetary_cents"] = out["monetary_cents"].where(scored)
    out["last_active_date"] = out[["last_session_date", "last_purchase_date", "last_event_date"]].max(axis=1)
    out["first_seen_date"] = _local_date(out["first_seen"], timezone)
    return out.reset_index()


def rfm_scores(features: pd.DataFrame, rules: pd.DataFrame) -> pd.DataFrame:
    """segments.rfm_scores: R, F, M scores 1-5, fm_score and the named segment of every buyer."""
    buyers = features[features["frequency"].notna()][
        ["customer_id", "recency_days", "frequency", "monetary_cents"]
    ]
    n = len(buyers)
    scores = pd.DataFrame({"customer_id": buyers["customer_id"]})
    for score, column, ascending in (
        ("r_score", "recency_days", False),
        ("f_score", "frequency", True),
        ("m_score", "monetary_cents", True),
    ):
        rank = buyers[column].rank(method="min", ascending=ascending).astype("int64")
        scores[score] = 1 + (5 * (rank - 1)) // n
    scores["fm_score"] = (scores["f_score"] + scores["m_score"] + 1) // 2
    matched = scores.merge(rules, how="cross")
    matched = matched[
        matched["r_score"].between(matched["r_min"], matched["r_max"])
        & matched["fm_score"].between(matched["fm_min"], matched["fm_max"])
    ]
    return matched.rename(columns={"segment": "rfm_segment", "label_zh": "rfm_segment_zh"})[
        ["customer_id", "r_score", "f_score", "m_score", "fm_score", "rfm_segment", "rfm_segment_zh"]
    ]


def run_pandas(
    inputs: dict[str, pd.DataFrame], as_of: date, cutoff: datetime, timezone: str, session_types: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders, customer features and RFM scores in pandas; returns (features, scores)."""
    order_rows = orders(inputs, cutoff, timezone)
    features = customer_features(inputs, order_rows, as_of, cutoff, timezone, session_types)
    return features, rfm_scores(features, inputs["rules"])

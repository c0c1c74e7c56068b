"""The models of the predict stage, fitted on one snapshot and applied to another (pure, over polars frames).

- the churn classifier: gradient boosting (HistGradientBoostingClassifier) on the snapshot's features;
- the recency baseline: the churn rate of each recency band at training time (the RFM recency rule as
  a probability);
- the buy-till-you-die models (tasks/predict/btyd.py): BG/NBD for purchase days and P(alive), Gamma-Gamma
  for the spend of a purchase day; their product is the value forecast, and BG/NBD's P(no purchase in
  the horizon) is its churn probability.
"""

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from tasks.predict import btyd
from tasks.shared.scoring import score_rows

# The classifier's inputs, columns of sql/predict/snapshots.sql. favourite_game is categorical.
FEATURES = (
    "recency_days",
    "purchases",
    "purchase_days",
    "spend",
    "spend_per_purchase",
    "purchases_last",
    "purchases_previous",
    "spend_last",
    "spend_previous",
    "session_recency_days",
    "sessions",
    "sessions_last",
    "sessions_previous",
    "session_minutes_last",
    "tenure_days",
    "purchase_age_days",
    "purchase_rate_30d",
    "session_rate_30d",
    "favourite_game",
)
CATEGORICAL = ("favourite_game",)
MAX_CATEGORIES = 250  # HistGradientBoosting takes at most 255 categories; the rarest become missing
RECENCY_BANDS = 10
MIN_REPEAT_BUYERS = 10  # fewer, and BG/NBD is not fitted (no P(alive), expected purchases or value)


@dataclass(frozen=True)
class Activity:
    """What churn means: the customers it applies to, their recency, and the outcome column."""

    name: str  # "purchase" or "session"
    population: str  # a snapshot row is a customer with this column > 0
    recency: str
    outcome: str  # churned = this column is 0 in the horizon after the snapshot


ACTIVITIES = {
    "purchase": Activity("purchase", "purchase_days", "recency_days", "future_purchases"),
    "session": Activity("session", "sessions", "session_recency_days", "future_sessions"),
}


def churned(frame: pl.DataFrame, activity: Activity) -> np.ndarray:
    """1 for the customers of a labelled snapshot with no activity in the horizon after it, else 0."""
    return (frame[activity.outcome].to_numpy() == 0).astype(np.int64)


def sample(frame: pl.DataFrame, rows: int, seed: int) -> pl.DataFrame:
    """At most `rows` rows of a frame: a seeded sample (in key order first, so the draw repeats)."""
    if frame.height <= rows:
        return frame
    return frame.sort("customer_id").sample(n=rows, seed=seed)


@dataclass
class ChurnClassifier:
    """Gradient boosting on the snapshot features; the inputs it uses and the categories it knows are kept
    with it. An input without a single value at training time (no sessions at all, no amount with a rate,
    no first-seen time) is left out: it could teach nothing."""

    random_state: int = 0
    features: list[str] = field(default_factory=lambda: list(FEATURES))
    categories: dict[str, list[str]] = field(default_factory=dict)
    model: HistGradientBoostingClassifier | None = None

    def matrix(self, frame: pl.DataFrame) -> np.ndarray:
        """The feature matrix: numbers as float (missing = NaN), categories as their code (unknown = NaN)."""
        columns = []
        for name in self.features:
            if name in CATEGORICAL:
                codes = {value: float(code) for code, value in enumerate(self.categories[name])}
                coded = frame[name].replace_strict(codes, default=None, return_dtype=pl.Float64)
                columns.append(coded.fill_null(np.nan).to_numpy())
            else:
                columns.append(frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy())
        return np.column_stack(columns)

    def fit(self, frame: pl.DataFrame, labels: np.ndarray) -> "ChurnClassifier":
        """Fit on a labelled snapshot."""
        self.features = [name for name in FEATURES if frame[name].null_count() < frame.height]
        if not self.features:
            raise ValueError("the churn classifier has no input with a value")
        for name in CATEGORICAL:
            counts = frame[name].drop_nulls().value_counts(sort=True)
            counts = counts.sort(["count", name], descending=[True, False]).head(MAX_CATEGORIES)
            self.categories[name] = sorted(counts[name].to_list())
        self.model = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.1,
            early_stopping=True,
            categorical_features=[name in CATEGORICAL for name in self.features],
            random_state=self.random_state,
        )
        # one OpenMP thread, as the lookalike fits (tasks/act/lookalike_model.py): on a two-core machine with
        # other work beside it, the pool's threads wait for each other at every node (a fit of 100k rows took
        # 1.7 s with two threads and a busy core beside, 0.8 s with one; 2,000 rows 0.4 s against 0.07)
        with threadpool_limits(limits=1, user_api="openmp"):
            self.model.fit(self.matrix(frame), labels)
        return self

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """P(churn) of each row."""
        if self.model is None:
            raise ValueError("the churn classifier is not fitted")
        model = self.model
        return score_rows(lambda x: model.predict_proba(x)[:, 1], self.matrix(frame))


@dataclass
class RecencyBaseline:
    """The recency rule as a probability: the churn rate of each recency band (deciles) at training time."""

    activity: Activity
    edges: np.ndarray = field(default_factory=lambda: np.array([]))
    rates: np.ndarray = field(default_factory=lambda: np.array([]))

    def bands(self, frame: pl.DataFrame) -> np.ndarray:
        """The band of each row's recency (missing recency: the oldest band)."""
        recency = frame[self.activity.recency].cast(pl.Float64).fill_null(np.inf).to_numpy()
        return np.searchsorted(self.edges, recency, side="right")

    def fit(self, frame: pl.DataFrame, labels: np.ndarray) -> "RecencyBaseline":
        """Learn the band edges (recency deciles) and each band's churn rate."""
        recency = frame[self.activity.recency].cast(pl.Float64).drop_nulls().to_numpy()
        quantiles = np.quantile(recency, np.linspace(0, 1, RECENCY_BANDS + 1)[1:-1]) if recency.size else []
        self.edges = np.unique(quantiles)
        bands = self.bands(frame)
        overall = float(labels.mean())
        # a band's rate, pulled a little toward the overall rate so a tiny band does not say 0 or 1
        self.rates = np.array(
            [
                (labels[bands == band].sum() + overall) / ((bands == band).sum() + 1)
                for band in range(self.edges.size + 1)
            ]
        )
        return self

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """P(churn) of each row: its recency band's rate."""
        return self.rates[self.bands(frame)]


@dataclass(frozen=True)
class Lifetimes:
    """BG/NBD and Gamma-Gamma fitted on one snapshot's purchase histories (time in days)."""

    bgnbd: btyd.BgNbdFit
    gamma_gamma: btyd.GammaGammaFit | None  # None: too few repeat buyers with a positive spend


def histories(frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (repeat purchase days), t_x (days from the first to the last) and T (days since the first)."""
    return (
        frame["repeat_purchase_days"].cast(pl.Float64).to_numpy(),
        frame["purchase_span_days"].cast(pl.Float64).to_numpy(),
        frame["purchase_age_days"].cast(pl.Float64).to_numpy(),
    )


def fit_lifetimes(frame: pl.DataFrame, min_repeat_buyers: int, penalizer: float = 0.0) -> Lifetimes | None:
    """Fit BG/NBD on the payers of a snapshot and Gamma-Gamma on its repeat buyers with a positive spend.

    None with fewer than MIN_REPEAT_BUYERS repeat buyers: nothing shows how often anyone buys again.
    """
    x, t_x, age = histories(frame)
    if (x > 0).sum() < MIN_REPEAT_BUYERS:
        return None
    compressed = btyd.compress(x, t_x, age)
    bgnbd = btyd.fit_bgnbd(*compressed.columns, weights=compressed.counts, penalizer=penalizer)
    spend = frame["repeat_spend"].cast(pl.Float64).to_numpy()
    repeat = (x > 0) & np.isfinite(spend) & (spend > 0)
    gamma_gamma = None
    if repeat.sum() >= min_repeat_buyers:
        fitted = btyd.fit_gamma_gamma(x[repeat], spend[repeat])
        gamma_gamma = fitted if fitted.q > 1 else None  # q <= 1: the population mean spend is infinite
    return Lifetimes(bgnbd, gamma_gamma)


@dataclass(frozen=True)
class LifetimeForecast:
    """Per customer: P(alive), P(no purchase in the horizon), expected purchase days and value in it."""

    p_alive: np.ndarray
    p_no_purchase: np.ndarray
    expected_purchases: np.ndarray
    predicted_value: np.ndarray  # NaN without a Gamma-Gamma fit


def forecast(lifetimes: Lifetimes, frame: pl.DataFrame, horizon: int) -> LifetimeForecast:
    """Apply the fitted buy-till-you-die models to a snapshot's payers over the next `horizon` days.

    P(no purchase in the horizon) = P(dead) + P(alive) * E[exp(-lambda * horizon)], where lambda's
    posterior given x purchases in T days is Gamma(r + x, alpha + T): a customer alive at T who makes no
    purchase cannot drop out either (BG/NBD drops out only just after a purchase).
    """
    fit = lifetimes.bgnbd
    x, t_x, age = histories(frame)
    alive = btyd.p_alive(fit, x, t_x, age)
    quiet = np.exp((fit.r + x) * (np.log(fit.alpha + age) - np.log(fit.alpha + age + horizon)))
    purchases = btyd.expected_purchases(fit, horizon, x, t_x, age)
    if lifetimes.gamma_gamma is None:
        value = np.full(x.size, np.nan)
    else:
        # a customer without a usable repeat spend (one purchase day, or amounts without a rate) is
        # expected to spend the population mean
        spend = frame["repeat_spend"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        known = (x > 0) & np.isfinite(spend) & (spend > 0)
        per_day = btyd.expected_spend(
            lifetimes.gamma_gamma, np.where(known, x, 0.0), np.where(known, spend, 0.0)
        )
        value = purchases * per_day
    return LifetimeForecast(alive, 1.0 - alive + alive * quiet, purchases, value)

"""Predict models: the recency baseline's bands and rates, the churn classifier, the buy-till-you-die forecast."""

import numpy as np
import polars as pl
import pytest
from scipy import special
from sklearn.metrics import roc_auc_score

from tasks.predict import btyd
from tasks.predict.models import (
    ACTIVITIES,
    FEATURES,
    MAX_CATEGORIES,
    MIN_REPEAT_BUYERS,
    ChurnClassifier,
    Lifetimes,
    RecencyBaseline,
    churned,
    fit_lifetimes,
    forecast,
    sample,
)
from tests.unit.predict.btyd_world import simulate_bgnbd
from tests.unit.predict.snapshot_world import GAMES, snapshot_frame

PURCHASE = ACTIVITIES["purchase"]
SESSION = ACTIVITIES["session"]


def test_churned_is_no_activity_in_the_horizon_after() -> None:
    frame = pl.DataFrame({"future_purchases": [0, 2, 0, 1], "future_sessions": [3, 0, 0, 1]})
    assert churned(frame, PURCHASE).tolist() == [1, 0, 1, 0]
    assert churned(frame, SESSION).tolist() == [0, 1, 1, 0]


def test_sample_is_seeded_and_independent_of_row_order() -> None:
    frame = pl.DataFrame({"customer_id": [f"C{i:02d}" for i in range(30)], "v": range(30)})
    assert sample(frame, 30, seed=1) is frame
    drawn = sample(frame, 5, seed=1)
    assert drawn.height == 5
    assert drawn.equals(sample(frame.reverse(), 5, seed=1))
    assert set(drawn["customer_id"]) <= set(frame["customer_id"])


# --- recency baseline --------------------------------------------------------------------------------


def test_recency_baseline_bands_and_rates_shrunk_toward_the_overall_rate() -> None:
    # five customers at recency 0 (one churned), five at 10 (four churned), one without a recency (churned)
    train = pl.DataFrame({"recency_days": [0, 0, 0, 0, 0, 10, 10, 10, 10, 10, None]})
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1])
    baseline = RecencyBaseline(PURCHASE).fit(train, labels)
    # deciles 10%..40% are 0, the median is 5 (halfway between the 5th and 6th), 60%..90% are 10
    assert baseline.edges.tolist() == [0.0, 5.0, 10.0]
    overall = 6 / 11
    # a band's rate is (churned + overall) / (customers + 1); an empty band gets the overall rate
    assert baseline.rates == pytest.approx(
        [
            overall,  # recency < 0: nobody
            (1 + overall) / (5 + 1),  # 0 <= recency < 5
            overall,  # 5 <= recency < 10: nobody
            (5 + overall) / (6 + 1),  # recency >= 10, and no recency
        ]
    )
    score = pl.DataFrame({"recency_days": [-1, 0, 4, 5, 9, 10, 1000, None]})
    # an edge belongs to the band above it; a missing recency is the oldest band
    assert baseline.bands(score).tolist() == [0, 1, 1, 2, 2, 3, 3, 3]
    assert baseline.predict(score) == pytest.approx(
        [overall, 17 / 66, 17 / 66, overall, overall, 61 / 77, 61 / 77, 61 / 77]
    )


def test_recency_baseline_of_distinct_recencies_has_ten_bands_of_two() -> None:
    train = pl.DataFrame({"session_recency_days": list(range(1, 21))})
    labels = np.array([0] * 10 + [1] * 10)
    baseline = RecencyBaseline(SESSION).fit(train, labels)
    # quantile q of 1..20 is 1 + 19 q
    assert baseline.edges == pytest.approx([2.9, 4.8, 6.7, 8.6, 10.5, 12.4, 14.3, 16.2, 18.1])
    assert baseline.bands(train).tolist() == [b for b in range(10) for _ in range(2)]
    assert baseline.rates == pytest.approx([0.5 / 3] * 5 + [2.5 / 3] * 5)


def test_recency_baseline_without_any_recency_predicts_the_overall_rate() -> None:
    train = pl.DataFrame({"recency_days": [None, None, None, None]}, schema={"recency_days": pl.Int64})
    baseline = RecencyBaseline(PURCHASE).fit(train, np.array([1, 0, 0, 0]))
    assert baseline.edges.size == 0
    assert baseline.predict(pl.DataFrame({"recency_days": [3, None]})) == pytest.approx([0.25, 0.25])


# --- churn classifier ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classifier_world() -> tuple[ChurnClassifier, pl.DataFrame]:
    """A classifier trained on 1000 synthetic payers, and 1000 others to score."""
    train = snapshot_frame(1000, seed=1)
    return ChurnClassifier(random_state=3).fit(train, churned(train, PURCHASE)), snapshot_frame(1000, seed=2)


def test_churn_classifier_learns_churn_from_recency(
    classifier_world: tuple[ChurnClassifier, pl.DataFrame],
) -> None:
    model, held_out = classifier_world
    predicted = model.predict(held_out)
    assert ((predicted >= 0) & (predicted <= 1)).all()
    assert roc_auc_score(churned(held_out, PURCHASE), predicted) > 0.9


def test_churn_classifier_is_reproducible_with_a_seed(
    classifier_world: tuple[ChurnClassifier, pl.DataFrame],
) -> None:
    model, held_out = classifier_world
    train = snapshot_frame(1000, seed=1)
    again = ChurnClassifier(random_state=3).fit(train, churned(train, PURCHASE))
    assert np.array_equal(again.predict(held_out), model.predict(held_out))


def test_churn_classifier_codes_known_categories_and_leaves_unknown_and_null_missing(
    classifier_world: tuple[ChurnClassifier, pl.DataFrame],
) -> None:
    model, held_out = classifier_world
    assert model.categories == {"favourite_game": sorted(GAMES)}
    rows = held_out.head(4).with_columns(favourite_game=pl.Series(["poker", "doudizhu", "tetris", None]))
    column = model.matrix(rows)[:, FEATURES.index("favourite_game")]
    assert column[:2].tolist() == [2.0, 0.0]
    assert np.isnan(column[2:]).all()
    unknown = held_out.with_columns(favourite_game=pl.lit("tetris"))
    null = held_out.with_columns(favourite_game=pl.lit(None, dtype=pl.String))
    assert np.array_equal(model.predict(unknown), model.predict(null))


def test_churn_classifier_keeps_the_most_frequent_categories() -> None:
    # 260 games once each, and g259 twice more: g259 and the alphabetically first 249 are kept
    games = [f"g{i:03d}" for i in range(260)] + ["g259", "g259"]
    frame = snapshot_frame(len(games), seed=4).with_columns(favourite_game=pl.Series(games))
    model = ChurnClassifier().fit(frame, churned(frame, PURCHASE))
    assert len(model.categories["favourite_game"]) == MAX_CATEGORIES
    assert model.categories["favourite_game"] == [f"g{i:03d}" for i in range(249)] + ["g259"]


def test_churn_classifier_trains_without_any_category() -> None:
    train = snapshot_frame(300, seed=5).with_columns(favourite_game=pl.lit(None, dtype=pl.String))
    model = ChurnClassifier().fit(train, churned(train, PURCHASE))
    assert model.categories == {"favourite_game": []}
    predicted = model.predict(snapshot_frame(50, seed=6))
    assert predicted.shape == (50,)
    assert np.isfinite(predicted).all()


def test_churn_classifier_refuses_to_predict_before_fitting() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        ChurnClassifier().predict(snapshot_frame(5, seed=7))


# --- buy-till-you-die forecast ----------------------------------------------------------------------

FIT = btyd.BgNbdFit(r=0.25, alpha=4.4, a=0.8, b=2.4, log_likelihood=0.0, n_customers=0.0, converged=True)
SPEND_FIT = btyd.GammaGammaFit(p=6.0, q=4.0, v=15.0, log_likelihood=0.0, n_customers=0.0, converged=True)
HORIZON = 30


def histories_frame() -> pl.DataFrame:
    """x, t_x and T of four payers: one purchase day; two repeat days; five early ones; two without a rate."""
    return pl.DataFrame(
        {
            "repeat_purchase_days": [0, 2, 5, 2],
            "purchase_span_days": [0, 20, 10, 40],
            "purchase_age_days": [30, 50, 100, 45],
            "repeat_spend": [None, 12.0, 40.0, None],
        },
        schema_overrides={"repeat_spend": pl.Float64},
    )


def bgnbd_likelihood(x: float, t_x: float, age: float) -> float:
    """FHL's likelihood of x repeat purchases, the last at t_x, seen for `age` days (as printed)."""
    r, alpha, a, b = FIT.r, FIT.alpha, FIT.a, FIT.b
    front = special.gamma(r + x) * alpha**r / special.gamma(r)
    alive = special.beta(a, b + x) / special.beta(a, b) * (alpha + age) ** -(r + x)
    dead = special.beta(a + 1, b + x - 1) / special.beta(a, b) * (alpha + t_x) ** -(r + x) if x > 0 else 0.0
    return front * (alive + dead)


def test_forecast_p_no_purchase_is_the_likelihood_of_a_quiet_horizon() -> None:
    # no purchase in (T, T + h] given the history = L(x, t_x, T + h) / L(x, t_x, T)
    frame = histories_frame()
    result = forecast(Lifetimes(FIT, None), frame, HORIZON)
    expected = [
        bgnbd_likelihood(x, t_x, age + HORIZON) / bgnbd_likelihood(x, t_x, age)
        for x, t_x, age in frame.select(
            ["repeat_purchase_days", "purchase_span_days", "purchase_age_days"]
        ).rows()
    ]
    assert result.p_no_purchase == pytest.approx(expected, rel=1e-10)
    # P(alive) for x > 0 is 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x)); 1 for x = 0
    assert result.p_alive[0] == 1.0
    assert result.p_alive[1] == pytest.approx(1 / (1 + 0.8 / 3.4 * (54.4 / 24.4) ** 2.25))
    assert ((result.p_alive >= 0) & (result.p_alive <= 1)).all()
    assert result.expected_purchases == pytest.approx(
        btyd.expected_purchases(FIT, HORIZON, [0, 2, 5, 2], [0, 20, 10, 40], [30, 50, 100, 45])
    )


def test_forecast_value_is_nan_without_a_gamma_gamma_fit() -> None:
    result = forecast(Lifetimes(FIT, None), histories_frame(), HORIZON)
    assert np.isnan(result.predicted_value).all()


def test_forecast_value_is_expected_purchases_times_expected_spend() -> None:
    result = forecast(Lifetimes(FIT, SPEND_FIT), histories_frame(), HORIZON)
    population_mean = 6.0 * 15.0 / 3.0  # p v / (q - 1), for customers without a usable repeat spend
    per_day = [
        population_mean,
        6.0 * (15.0 + 2 * 12.0) / (6.0 * 2 + 3.0),
        6.0 * (15.0 + 5 * 40.0) / 33.0,
        30.0,
    ]
    assert result.predicted_value == pytest.approx(result.expected_purchases * np.array(per_day))


def test_fit_lifetimes_fits_gamma_gamma_only_with_enough_repeat_buyers() -> None:
    rng = np.random.default_rng(11)
    age = rng.integers(30, 365, 800).astype(float)
    x, t_x = simulate_bgnbd(0.5, 20.0, 0.7, 3.0, age, rng)
    spend = np.where(x > 0, rng.gamma(6.0, 5.0, x.size), np.nan)
    frame = pl.DataFrame(
        {
            "repeat_purchase_days": x,
            "purchase_span_days": t_x,
            "purchase_age_days": age,
            "repeat_spend": pl.Series(spend).fill_nan(None),
        }
    )
    repeat_buyers = int((x > 0).sum())
    fitted = fit_lifetimes(frame, min_repeat_buyers=repeat_buyers)
    assert fitted.bgnbd.n_customers == 800
    assert fitted.gamma_gamma is not None
    assert fitted.gamma_gamma.n_customers == repeat_buyers
    assert fit_lifetimes(frame, min_repeat_buyers=repeat_buyers + 1).gamma_gamma is None


@pytest.mark.parametrize(
    "empty", [("session_recency_days", "sessions_last"), ("spend", "spend_per_purchase"), ("tenure_days",)]
)
def test_churn_classifier_leaves_out_inputs_without_a_value(empty: tuple[str, ...]) -> None:
    # no sessions at all (a shop), no amount with a rate, no first-seen time: the inputs are all null
    train = snapshot_frame(1000, seed=1).with_columns(pl.lit(None, dtype=pl.Float64).alias(n) for n in empty)
    model = ChurnClassifier(random_state=3).fit(train, churned(train, PURCHASE))
    assert model.features == [name for name in FEATURES if name not in empty]
    held_out = snapshot_frame(1000, seed=2)
    assert roc_auc_score(churned(held_out, PURCHASE), model.predict(held_out)) > 0.9


def test_fit_lifetimes_without_repeat_buyers_fits_nothing() -> None:
    frame = pl.DataFrame(
        {
            "repeat_purchase_days": [0.0] * 200 + [1.0] * (MIN_REPEAT_BUYERS - 1),
            "purchase_span_days": [0.0] * 200 + [5.0] * (MIN_REPEAT_BUYERS - 1),
            "purchase_age_days": [40.0] * (200 + MIN_REPEAT_BUYERS - 1),
            "repeat_spend": [None] * 200 + [10.0] * (MIN_REPEAT_BUYERS - 1),
        }
    )
    assert fit_lifetimes(frame, min_repeat_buyers=1) is None
    one_more = pl.concat([frame, frame.tail(1)])
    assert fit_lifetimes(one_more, min_repeat_buyers=1) is not None

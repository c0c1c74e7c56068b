"""BG/NBD and Gamma-Gamma: the published CDNOW fits, formulas checked by integration, recovery, input errors."""

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special

from tasks.predict.btyd import (
    BgNbdFit,
    GammaGammaFit,
    _bgnbd_data,
    _bgnbd_log_likelihood,
    _gamma_gamma_log_likelihood,
    compress,
    expected_purchases,
    expected_purchases_new,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    p_alive,
)
from tests.unit.predict.btyd_world import simulate_bgnbd

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow"
# Fader, Hardie & Lee (2005), CDNOW sample, 39-week calibration period
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_BGNBD_LL = -9582.4
# Fader & Hardie, "The Gamma-Gamma model of monetary value", same customers' repeat purchases
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
CALIBRATION_END = 19970930


def read_csv(name: str) -> dict[str, np.ndarray]:
    data = np.genfromtxt(CDNOW / name, delimiter=",", names=True)
    return {column: data[column] for column in data.dtype.names}


@pytest.fixture(scope="module")
def cdnow() -> dict[str, np.ndarray]:
    return read_csv("cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: dict[str, np.ndarray]) -> BgNbdFit:
    return fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def direct_log_likelihood(fit: BgNbdFit, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """FHL's per-customer likelihood as printed: products and powers, one log at the end."""
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    front = special.beta(a, b + x) / special.beta(a, b) * special.gamma(r + x) * alpha**r / special.gamma(r)
    dead = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12) / (alpha + t_x) ** (r + x), 0.0)
    return np.log(front * ((alpha + T) ** -(r + x) + dead))


def expected_if_alive_by_integration(fit: BgNbdFit, t: float, x: float, T: float) -> float:
    """E[purchases in (T, T+t] | alive] = E[(1 - e^(-λpt)) / p], by quadrature over p ~ Beta(a, b+x).

    The mean over λ ~ Gamma(r+x, α+T) is closed-form: E[e^(-λpt)] = ((α+T) / (α+T+pt))^(r+x).
    """

    def given_p(p: float) -> float:
        if p == 0:
            return (fit.r + x) * t / (fit.alpha + T)
        return -np.expm1(-(fit.r + x) * np.log1p(p * t / (fit.alpha + T))) / p

    weighted = integrate.quad(
        given_p, 0, 1, weight="alg", wvar=(fit.a - 1, fit.b + x - 1), epsabs=0, epsrel=1e-11
    )
    return weighted[0] / np.exp(special.betaln(fit.a, fit.b + x))


def direct_p_alive(fit: BgNbdFit, x: float, t_x: float, T: float) -> float:
    if x == 0:
        return 1.0
    return 1 / (1 + fit.a / (fit.b + x - 1) * ((fit.alpha + T) / (fit.alpha + t_x)) ** (fit.r + x))


def test_bgnbd_on_cdnow_reproduces_the_published_fit(cdnow_fit: BgNbdFit) -> None:
    for name, published in PUBLISHED_BGNBD.items():
        value = getattr(cdnow_fit, name)
        assert round(value, 2) == round(published, 2), name
        assert abs(value - published) < 0.001, name  # published to 3 decimals
    assert abs(cdnow_fit.log_likelihood - PUBLISHED_BGNBD_LL) < 0.5
    assert cdnow_fit.converged
    assert cdnow_fit.n_customers == 2357


def test_bgnbd_log_likelihood_is_the_sum_of_the_direct_formula(
    cdnow: dict[str, np.ndarray], cdnow_fit: BgNbdFit
) -> None:
    direct = direct_log_likelihood(cdnow_fit, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert cdnow_fit.log_likelihood == pytest.approx(direct.sum(), rel=1e-10)


def test_the_fit_is_a_maximum_of_the_direct_likelihood(
    cdnow: dict[str, np.ndarray], cdnow_fit: BgNbdFit
) -> None:
    best = direct_log_likelihood(cdnow_fit, cdnow["frequency"], cdnow["recency"], cdnow["T"]).sum()
    for name in PUBLISHED_BGNBD:
        for factor in (0.99, 1.01):
            moved = BgNbdFit(**{**cdnow_fit.__dict__, name: getattr(cdnow_fit, name) * factor})
            assert direct_log_likelihood(moved, cdnow["frequency"], cdnow["recency"], cdnow["T"]).sum() < best


def test_analytic_gradients_match_finite_differences(cdnow: dict[str, np.ndarray]) -> None:
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    data = _bgnbd_data(x, t_x, T, np.linspace(0.5, 2.0, len(x)))
    for params in ([0.3, 5.0, 0.8, 2.5], [1.7, 0.4, 3.0, 0.6]):
        error = optimize.check_grad(
            lambda p: _bgnbd_log_likelihood(p, data)[0], lambda p: _bgnbd_log_likelihood(p, data)[1], params
        )
        assert error < 1e-4 * np.abs(_bgnbd_log_likelihood(np.array(params), data)[1]).max()
    spend = read_csv("cdnow_customers_summary_with_transactions.csv")
    repeat = spend["x"] > 0
    xs, m = spend["x"][repeat], spend["zbar"][repeat]
    w = np.linspace(0.5, 2.0, len(xs))
    values, codes = np.unique(xs, return_inverse=True)
    w_x = np.bincount(codes, weights=w)

    def gg(p: np.ndarray) -> tuple[float, np.ndarray]:
        return _gamma_gamma_log_likelihood(p, values, w_x, xs, m, w)

    error = optimize.check_grad(lambda p: gg(p)[0], lambda p: gg(p)[1], [5.0, 3.0, 12.0])
    assert error < 1e-4 * np.abs(gg(np.array([5.0, 3.0, 12.0]))[1]).max()


def test_weights_give_the_fit_of_the_expanded_rows(cdnow: dict[str, np.ndarray]) -> None:
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    counts = np.random.default_rng(3).integers(1, 6, len(x))
    expanded = fit_bgnbd(np.repeat(x, counts), np.repeat(t_x, counts), np.repeat(T, counts))
    weighted = fit_bgnbd(x, t_x, T, weights=counts)
    rows = compress(x, t_x, T)
    compressed = fit_bgnbd(*rows.columns, weights=rows.counts)
    unweighted = fit_bgnbd(x, t_x, T)
    for name in PUBLISHED_BGNBD:
        assert getattr(weighted, name) == pytest.approx(getattr(expanded, name), rel=1e-6)
        assert getattr(compressed, name) == pytest.approx(getattr(unweighted, name), rel=1e-6)
    assert weighted.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-10)
    assert weighted.n_customers == expanded.n_customers == counts.sum()
    assert compressed.log_likelihood == pytest.approx(unweighted.log_likelihood, rel=1e-10)


def test_compress_gives_distinct_rows_their_counts_and_the_way_back() -> None:
    x = np.array([0, 2, 2, 0, 2, 1])
    t_x = np.array([0, 3.5, 3.5, 0, 4.0, 1.0])
    T = np.array([10, 12, 12, 10, 12, 12])
    rows = compress(x, t_x, T)
    assert [c.tolist() for c in rows.columns] == [[0, 1, 2, 2], [0, 1.0, 3.5, 4.0], [10, 12, 12, 12]]
    assert rows.counts.tolist() == [2, 1, 2, 1]
    for column, original in zip(rows.columns, (x, t_x, T), strict=True):
        assert np.array_equal(column[rows.inverse], original)


def test_p_alive_is_one_without_repeat_purchases_and_matches_the_formula(cdnow_fit: BgNbdFit) -> None:
    x = np.array([0, 0, 1, 2, 2, 10, 300])
    t_x = np.array([0, 0, 0, 30.43, 38.86, 5.0, 2000.0])
    T = np.array([0, 38.86, 38.86, 38.86, 38.86, 38.86, 3000.0])
    alive = p_alive(cdnow_fit, x, t_x, T)
    assert alive[:2].tolist() == [1.0, 1.0]
    assert np.all((alive > 0) & (alive <= 1))
    for i in range(5):
        assert alive[i] == pytest.approx(direct_p_alive(cdnow_fit, x[i], t_x[i], T[i]), rel=1e-12)
    # a customer whose last purchase is longer ago is less likely alive
    assert np.all(np.diff(p_alive(cdnow_fit, 3, [35.0, 20.0, 5.0, 0.0], 38.86)) < 0)


@pytest.mark.parametrize(
    "params",
    [
        (0.243, 4.414, 0.793, 2.426),  # CDNOW, weeks
        (0.243, 30.9, 0.793, 2.426),  # the same in days
        (2.0, 10.0, 3.0, 0.5),  # C-A-B an integer: scipy's hyp2f1 needs the workaround
        (0.1, 200.0, 1.0, 1.0),  # a = 1, the removable singularity
        (5.0, 1.0, 1.5, 20.0),
    ],
)
def test_expected_purchases_match_numerical_integration(params: tuple[float, float, float, float]) -> None:
    fit = BgNbdFit(*params, log_likelihood=0.0, n_customers=1.0, converged=True)
    cases = [(0, 0, 0, 39), (0, 0, 38.86, 39), (2, 30.43, 38.86, 39), (1, 0, 5, 1), (10, 200, 365, 365)]
    cases += [(50, 900, 1000, 1000), (200, 2900, 3000, 365), (500, 4000, 5000, 10_000), (200, 0, 0, 365)]
    for x, t_x, T, t in cases:
        expected = direct_p_alive(fit, x, t_x, T) * expected_if_alive_by_integration(fit, t, x, T)
        assert float(expected_purchases(fit, t, x, t_x, T)) == pytest.approx(expected, rel=1e-5), (
            x,
            t_x,
            T,
            t,
        )


def test_expected_purchases_for_cdnow_customer_one(cdnow_fit: BgNbdFit) -> None:
    # customer 1: 2 repeat purchases, the last at week 30.43, observed for 38.86 weeks; 39 weeks ahead
    value = float(expected_purchases(cdnow_fit, 39, 2, 30.43, 38.86))
    by_integration = direct_p_alive(cdnow_fit, 2, 30.43, 38.86) * expected_if_alive_by_integration(
        cdnow_fit, 39, 2, 38.86
    )
    assert value == pytest.approx(by_integration, rel=1e-8)
    assert round(value, 3) == 1.226


def test_expected_purchases_of_a_new_customer_match_integration(cdnow_fit: BgNbdFit) -> None:
    horizons = np.array([0.0, 1.0, 39.0, 78.0, 520.0])
    values = expected_purchases_new(cdnow_fit, horizons)
    assert values[0] == 0
    for t, value in zip(horizons[1:], values[1:], strict=True):
        assert value == pytest.approx(expected_if_alive_by_integration(cdnow_fit, t, 0, 0), rel=1e-8)
    assert np.array_equal(values, expected_purchases(cdnow_fit, horizons, 0, 0, 0))


def test_expected_purchases_stay_finite_for_heavy_buyers_and_long_histories() -> None:
    fit = BgNbdFit(0.243, 30.9, 0.793, 2.426, log_likelihood=0.0, n_customers=1.0, converged=True)
    x = np.arange(0, 501, 10, dtype=float)[:, None, None]
    T = np.array([0.0, 30, 365, 1000, 3000, 5000])[None, :, None]
    t = np.array([1.0, 30, 365, 1000])[None, None, :]
    for recency in (np.where(x > 0, T, 0.0), np.where(x > 0, T / 2, 0.0)):
        values = expected_purchases(fit, t, x, recency, T)
        assert values.shape == (51, 6, 4)
        assert np.all(np.isfinite(values)) and np.all(values >= 0)
        assert np.all(np.diff(values, axis=2) >= 0)  # more time, more purchases


def test_bgnbd_recovers_the_parameters_of_simulated_customers() -> None:
    rng = np.random.default_rng(2024)
    T = rng.uniform(20, 80, 20_000)
    x, t_x = simulate_bgnbd(*PUBLISHED_BGNBD.values(), T, rng)
    fit = fit_bgnbd(x, t_x, T)
    # Over 40 seeds of this design the estimates had standard deviations r 0.0037, alpha 0.13, a 0.044
    # and b 0.19 (b also about 3% low on average, the MLE's small-sample bias); allow four of them.
    tolerance = {"r": 0.015, "alpha": 0.52, "a": 0.18, "b": 0.75}
    assert fit.converged
    for name, true in PUBLISHED_BGNBD.items():
        assert abs(getattr(fit, name) - true) < tolerance[name], name


def test_a_penalizer_shrinks_the_parameters(cdnow: dict[str, np.ndarray], cdnow_fit: BgNbdFit) -> None:
    penalised = fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"], penalizer=0.01)
    size = [np.hypot.reduce([f.r, f.alpha, f.a, f.b]) for f in (penalised, cdnow_fit)]
    assert size[0] < size[1]
    assert penalised.log_likelihood < cdnow_fit.log_likelihood


def test_gamma_gamma_on_the_cdnow_summary() -> None:
    spend = read_csv("cdnow_customers_summary_with_transactions.csv")
    fit = fit_gamma_gamma(spend["x"], spend["zbar"])
    assert fit.converged and fit.n_customers == 946
    assert round(fit.p, 2) == PUBLISHED_GAMMA_GAMMA["p"]
    assert round(fit.q, 2) == PUBLISHED_GAMMA_GAMMA["q"]
    # zbar rounded to the cent moves v to 15.448 (lifetimes reports 15.45); unrounded zbar gives the
    # published 15.44 (next test)
    assert round(fit.v, 2) == 15.45
    repeat = spend["x"] > 0
    x, m = spend["x"][repeat], spend["zbar"][repeat]
    p, q, v = fit.p, fit.q, fit.v
    direct = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(v)
        + p * x * np.log(x)
        + (p * x - 1) * np.log(m)
        - (p * x + q) * np.log(v + x * m)
    )
    assert fit.log_likelihood == pytest.approx(direct.sum(), rel=1e-10)


def test_gamma_gamma_on_the_cdnow_transactions_reproduces_the_published_fit() -> None:
    sample, day, value = np.loadtxt(CDNOW / "CDNOW_sample.txt", usecols=(1, 2, 4), unpack=True)
    calibration = day <= CALIBRATION_END
    # purchases of one day are one transaction; rows come back sorted by customer, then day
    days = compress(sample[calibration], day[calibration])
    spent = np.bincount(days.inverse, weights=value[calibration])
    customer = days.columns[0].astype(int)
    repeat = np.r_[False, customer[1:] == customer[:-1]]
    x = np.bincount(customer[repeat], minlength=2358)[1:]
    zbar = np.bincount(customer[repeat], weights=spent[repeat], minlength=2358)[1:] / np.maximum(x, 1)
    summary = read_csv("cdnow_customers_summary_with_transactions.csv")
    assert np.array_equal(x, summary["x"])
    assert np.abs(zbar - summary["zbar"]).max() <= 0.005 + 1e-9
    fit = fit_gamma_gamma(x, np.where(x > 0, zbar, np.nan))
    for name, published in PUBLISHED_GAMMA_GAMMA.items():
        assert round(getattr(fit, name), 2) == published, name


def test_expected_spend_shrinks_the_observed_mean_toward_the_population_mean() -> None:
    fit = GammaGammaFit(6.25, 3.74, 15.44, log_likelihood=0.0, n_customers=1.0, converged=True)
    population = fit.p * fit.v / (fit.q - 1)
    assert fit.mean_spend == pytest.approx(population)
    x = np.array([0, 1, 2, 5, 20, 100])
    for zbar in (5.0, 200.0):
        spend = expected_spend(fit, x, np.where(x > 0, zbar, np.nan))
        assert spend[0] == pytest.approx(population)
        weight = fit.p * x / (fit.p * x + fit.q - 1)
        assert spend == pytest.approx((1 - weight) * population + weight * zbar)
        between = np.abs(spend[1:] - zbar) < np.abs(population - zbar)
        closer = np.diff(np.abs(spend - zbar)) < 0
        assert between.all() and closer.all()


def test_expected_spend_needs_q_above_one_for_customers_without_repeat_purchases() -> None:
    fit = GammaGammaFit(2.0, 0.8, 10.0, log_likelihood=0.0, n_customers=1.0, converged=True)
    assert fit.mean_spend == float("inf")
    assert float(expected_spend(fit, 3, 20.0)) == pytest.approx(2.0 * (10 + 60) / (6 + 0.8 - 1))
    with pytest.raises(ValueError, match="q = 0.8 <= 1"):
        expected_spend(fit, [3, 0], [20.0, 0.0])


def test_repeat_purchases_on_the_first_day_are_allowed() -> None:
    fit = fit_bgnbd([0, 1, 2, 3, 1, 0], [0, 0, 0, 5, 9, 0], [10, 10, 10, 10, 10, 4])
    assert np.isfinite(fit.log_likelihood)


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "weights", "message"),
    [
        ([1, -1], [1, 0], [2, 2], None, "frequency holds negative values"),
        ([1, 1], [1, np.nan], [2, 2], None, "recency holds 1 NaN"),
        ([1, 1], [1, 1], [2, np.inf], None, "T holds 1 NaN or infinite"),
        ([1, 1.5], [1, 1], [2, 2], None, "whole numbers"),
        ([1, 1], [1, 3], [2, 2], None, "recency exceeds T at position 1"),
        ([1, 0], [1, 1], [2, 2], None, "recency must be 0 where frequency is 0"),
        ([], [], [], None, "non-empty"),
        ([1, 1], [1, 1], [2, 2], [1], "one value per row"),
        ([1, 1], [1, 1], [2, 2], [1, -1], "weights holds negative"),
        ([1, 1], [1, 1], [2, 2], [0, 0], "weights sum to zero"),
        ([0, 0], [0, 0], [2, 2], None, "no customer has a repeat purchase"),
    ],
)
def test_bad_bgnbd_input_is_named(
    frequency: list[float], recency: list[float], T: list[float], weights: list[float] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fit_bgnbd(frequency, recency, T, weights=weights)


def test_bad_prediction_input_is_named(cdnow_fit: BgNbdFit) -> None:
    with pytest.raises(ValueError, match="t holds negative"):
        expected_purchases(cdnow_fit, -1, 1, 1, 2)
    with pytest.raises(ValueError, match="recency exceeds T"):
        p_alive(cdnow_fit, 1, 3, 2)
    with pytest.raises(ValueError, match="penalizer"):
        fit_bgnbd([1], [1], [2], penalizer=-1)


@pytest.mark.parametrize(
    ("frequency", "monetary", "message"),
    [
        ([1, 2], [10.0, 0.0], "monetary_value must be a positive"),
        ([1, 2], [10.0, -3.0], "first at position 1"),
        ([1, 2], [np.nan, 3.0], "1 row"),
        ([0, 0], [0.0, 0.0], "no customer has a repeat purchase"),
        ([-1, 2], [1.0, 1.0], "frequency holds negative"),
    ],
)
def test_bad_gamma_gamma_input_is_named(frequency: list[float], monetary: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_gamma_gamma(frequency, monetary)


def test_gamma_gamma_ignores_customers_without_repeat_purchases() -> None:
    spend = read_csv("cdnow_customers_summary_with_transactions.csv")
    repeat = spend["x"] > 0
    only_repeat = fit_gamma_gamma(spend["x"][repeat], spend["zbar"][repeat])
    with_others = fit_gamma_gamma(spend["x"], np.where(repeat, spend["zbar"], np.nan))
    assert (only_repeat.p, only_repeat.q, only_repeat.v) == (with_others.p, with_others.q, with_others.v)
    weighted = fit_gamma_gamma(spend["x"], spend["zbar"], weights=np.full(len(repeat), 2.0))
    assert weighted.p == pytest.approx(only_repeat.p, rel=1e-6)
    assert weighted.log_likelihood == pytest.approx(2 * only_repeat.log_likelihood, rel=1e-10)

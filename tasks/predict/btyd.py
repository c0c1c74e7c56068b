"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD for purchase counts, Gamma-Gamma for spend.

BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way" (FHL). Gamma-Gamma: Fader,
Hardie & Lee (2005), "RFM and CLV", and Fader & Hardie's note "The Gamma-Gamma model of monetary value".
A customer is summarised as in those papers: frequency x = repeat purchases (purchases after the first),
recency t_x = time of the last purchase since the first (0 when x = 0), T = time since the first purchase,
all in one unit (days or weeks). Parameters are fitted in log space with L-BFGS-B and analytic gradients;
duplicate rows are fitted once with their weight, so millions of customers cost as much as their distinct
(x, t_x, T) triples. Pure numpy and scipy: no warehouse, no Prefect.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

FloatArray = NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

# Log-parameter bounds: a parameter that runs into one (e^±20) has no finite maximum, so the fit is
# flagged as not converged rather than reported as an estimate.
LOG_BOUND = 20.0
# Within this distance of a = 1 the conditional expectation cancels badly (c/(a-1) · (1 - ...)) and is interpolated
A_NEAR_ONE = 1e-6
FIT_OPTIONS = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9}


@dataclass(frozen=True)
class BgNbdFit:
    """A fitted BG/NBD: purchase rates ~ Gamma(r, alpha), dropout probabilities ~ Beta(a, b)."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float  # total over customers, weighted, without the penalty
    n_customers: float  # total weight: the number of customers when weights are counts
    converged: bool  # the optimiser succeeded and no parameter ran off to its bound


@dataclass(frozen=True)
class GammaGammaFit:
    """A fitted Gamma-Gamma spend model: spend ~ Gamma(p, nu) per transaction, nu ~ Gamma(q, v)."""

    p: float
    q: float
    v: float
    log_likelihood: float
    n_customers: float  # total weight of the repeat buyers fitted on
    converged: bool

    @property
    def mean_spend(self) -> float:
        """Population mean spend per transaction, p v / (q - 1); infinite when q <= 1."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else float("inf")


@dataclass(frozen=True)
class Compressed:
    """Distinct rows of some columns, how often each occurs, and each input row's distinct-row index."""

    columns: tuple[FloatArray, ...]
    counts: NDArray[np.int64]
    inverse: NDArray[np.intp]


def compress(*columns: ArrayLike) -> Compressed:
    """Distinct rows of equal-length columns with their counts; `result.columns[i][result.inverse]` restores column i."""
    arrays = [np.asarray(c, dtype=np.float64).ravel() for c in columns]
    if not arrays or len({len(a) for a in arrays}) != 1:
        raise ValueError(
            f"compress takes one or more columns of equal length, got lengths {[len(a) for a in arrays]}"
        )
    key, size = np.zeros(len(arrays[0]), dtype=np.int64), 1
    for array in arrays:
        values, codes = np.unique(array, return_inverse=True)
        if size * len(values) >= 2**62:  # keep the combined code inside int64
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            size = int(key.max()) + 1
        key, size = key * len(values) + codes, size * len(values)
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    return Compressed(tuple(a[first] for a in arrays), counts.astype(np.int64), inverse.ravel())


def _column(values: ArrayLike, name: str) -> FloatArray:
    """A numeric array with every value finite and non-negative, or a ValueError naming the column."""
    array = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), first at position {_first(bad)}"
        )
    if (array < 0).any():
        raise ValueError(
            f"{name} holds negative values, first at position {_first(array < 0)}: {array.min()}"
        )
    return array


def _first(mask: NDArray[np.bool_]) -> int | tuple[int, ...]:
    index = np.unravel_index(int(np.argmax(mask)), mask.shape)
    return int(index[0]) if len(index) == 1 else tuple(int(i) for i in index)


def _frequency(values: ArrayLike) -> FloatArray:
    x = _column(values, "frequency")
    if (x != np.floor(x)).any():
        raise ValueError(
            f"frequency counts repeat purchases: whole numbers only, first fraction at {_first(x != np.floor(x))}"
        )
    return x


def _summary(
    frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated (x, t_x, T), broadcast to one shape."""
    x, t_x, age = np.broadcast_arrays(_frequency(frequency), _column(recency, "recency"), _column(T, "T"))
    if (t_x > age).any():
        i = _first(t_x > age)
        raise ValueError(
            f"recency exceeds T at position {i} (recency={t_x[i]}, T={age[i]}): recency is the time from the "
            "first to the last purchase, not the time since the last purchase"
        )
    if ((x == 0) & (t_x > 0)).any():
        raise ValueError(
            f"recency must be 0 where frequency is 0, first offender at position {_first((x == 0) & (t_x > 0))}: "
            "recency is the time from the first to the last purchase"
        )
    return x, t_x, age


def _weights(weights: ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    w = _column(weights, "weights")
    if w.shape != (n,):
        raise ValueError(f"weights must have one value per row: {n} rows, weights of shape {w.shape}")
    return w


def _fit_rows(*columns: FloatArray, weights: ArrayLike | None) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of 1-D columns with the summed weight of each, rows of zero weight dropped."""
    w = _weights(weights, columns[0].size)
    rows = compress(*columns)
    total = np.bincount(rows.inverse, weights=w, minlength=len(rows.counts))
    keep = total > 0
    if not keep.any():
        raise ValueError("weights sum to zero: nothing to fit")
    return [c[keep] for c in rows.columns], total[keep]


def _check_rows(x: FloatArray) -> None:
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"fitting takes non-empty 1-D columns, got shape {x.shape}")


def _factorize(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    uniques, codes = np.unique(values, return_inverse=True)
    return uniques, codes.ravel()


@dataclass(frozen=True)
class _BgNbdData:
    """Weighted distinct rows, arranged so special functions run once per distinct x, t_x or T."""

    xs: FloatArray  # distinct x, and the weight of each
    w_x: FloatArray
    ages: FloatArray  # distinct T, the weight and the weighted sum of x of each
    w_age: FloatArray
    wx_age: FloatArray
    # rows with x > 0: weight, x, and indices into xs, ages and repeat_recency
    w: FloatArray
    x: FloatArray
    x_code: NDArray[np.intp]
    age_code: NDArray[np.intp]
    recency_code: NDArray[np.intp]
    repeat_recency: FloatArray
    total: float


def _bgnbd_data(x: FloatArray, t_x: FloatArray, age: FloatArray, w: FloatArray) -> _BgNbdData:
    xs, x_code = _factorize(x)
    ages, age_code = _factorize(age)
    repeat = x > 0
    recency, recency_code = _factorize(t_x[repeat])
    return _BgNbdData(
        xs=xs,
        w_x=np.bincount(x_code, weights=w, minlength=len(xs)),
        ages=ages,
        w_age=np.bincount(age_code, weights=w, minlength=len(ages)),
        wx_age=np.bincount(age_code, weights=w * x, minlength=len(ages)),
        w=w[repeat],
        x=x[repeat],
        x_code=x_code[repeat],
        age_code=age_code[repeat],
        recency_code=recency_code,
        repeat_recency=recency,
        total=float(w.sum()),
    )


def _bgnbd_log_likelihood(params: FloatArray, d: _BgNbdData) -> tuple[float, FloatArray]:
    """Total log-likelihood (FHL's L(r, α, a, b | x, t_x, T), weighted) and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = params
    gl, dg, xs = special.gammaln, special.digamma, d.xs
    # Terms of x alone: ln Γ(r+x)/Γ(r) α^r and ln B(a, b+x)/B(a, b)
    ll = d.w_x @ (
        gl(r + xs) - gl(r) + gl(a + b) + gl(b + xs) - gl(b) - gl(a + b + xs)
    ) + d.total * r * np.log(alpha)
    grad = np.array(
        [
            d.w_x @ (dg(r + xs) - dg(r)) + d.total * np.log(alpha),
            d.total * r / alpha,
            d.w_x @ (dg(a + b) - dg(a + b + xs)),
            d.w_x @ (dg(a + b) + dg(b + xs) - dg(b) - dg(a + b + xs)),
        ]
    )
    # Alive-throughout term, -(r+x) ln(α+T), summed per distinct T
    log_age = np.log(alpha + d.ages)
    ll -= (r * d.w_age + d.wx_age) @ log_age
    grad[0] -= d.w_age @ log_age
    grad[1] -= (r * d.w_age + d.wx_age) @ (1 / (alpha + d.ages))
    # Repeat buyers may have died after their last purchase: ln(1 + e^odds), odds = ln P(dead)/P(alive)
    span = log_age[d.age_code] - np.log(alpha + d.repeat_recency)[d.recency_code]
    shape = r + d.x
    odds = (np.log(a) - np.log(b + xs[d.x_code] - 1)) + shape * span
    ll += d.w @ np.logaddexp(0.0, odds)
    dead = d.w * special.expit(odds)
    inv_age, inv_recency = 1 / (alpha + d.ages), 1 / (alpha + d.repeat_recency)
    grad += [
        dead @ span,
        (dead * shape) @ (inv_age[d.age_code] - inv_recency[d.recency_code]),
        dead.sum() / a,
        -dead @ (1 / (b + d.x - 1)),
    ]
    return float(ll), grad


def _penalised(
    log_likelihood: Callable[[FloatArray], tuple[float, FloatArray]], total: float, penalizer: float
) -> Objective:
    """Negative mean log-likelihood plus penalizer · Σ θ², as a function of log θ with its gradient."""

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        ll, grad = log_likelihood(params)
        value = -ll / total + penalizer * float(params @ params)
        return value, (-grad / total + 2 * penalizer * params) * params

    return objective


def _minimise(objective: Objective, start: FloatArray) -> tuple[FloatArray, bool]:
    """Log-parameters at the minimum and whether it was found; Nelder-Mead rescues a failed L-BFGS-B run."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    result = optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=FIT_OPTIONS
    )
    if not result.success:
        rescue = optimize.minimize(
            lambda p: objective(p)[0],
            result.x,
            method="Nelder-Mead",
            bounds=bounds,
            options={"maxiter": 5000},
        )
        result = optimize.minimize(
            objective, rescue.x, jac=True, method="L-BFGS-B", bounds=bounds, options=FIT_OPTIONS
        )
    at_bound = np.abs(result.x) > LOG_BOUND - 1e-6
    return result.x, bool(result.success and not at_bound.any())


def fit_bgnbd(
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> BgNbdFit:
    """Fit the BG/NBD by maximum likelihood; weights say how many customers each row stands for."""
    x, t_x, age = _summary(frequency, recency, T)
    _check_rows(x)
    (x, t_x, age), w = _fit_rows(x, t_x, age, weights=weights)
    if not (x > 0).any():
        raise ValueError("no customer has a repeat purchase (frequency > 0): the BG/NBD cannot be fitted")
    if penalizer < 0:
        raise ValueError(f"penalizer must be >= 0, got {penalizer}")
    data = _bgnbd_data(x, t_x, age, w)
    # Start with r = a = b = 1 and the pooled purchase rate: E[λ] = r / α ≈ repeat purchases per unit of time
    alpha = float(w @ age) / max(float(w @ x), 1.0)
    start = np.log([1.0, max(alpha, 1e-6), 1.0, 1.0])
    log_params, converged = _minimise(
        _penalised(lambda p: _bgnbd_log_likelihood(p, data), data.total, penalizer), start
    )
    params = np.exp(log_params)
    r, alpha, a, b = (float(value) for value in params)
    return BgNbdFit(r, alpha, a, b, _bgnbd_log_likelihood(params, data)[0], data.total, converged)


def p_alive(fit: BgNbdFit, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T): 1 for x = 0, as a customer can only drop out right after a repeat purchase."""
    x, t_x, age = _summary(frequency, recency, T)
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)  # b + x - 1 may be negative at x = 0, where the term is unused
    odds = (
        np.log(fit.a)
        - np.log(fit.b + x_safe - 1)
        + (fit.r + x) * (np.log(fit.alpha + age) - np.log(fit.alpha + t_x))
    )
    return np.where(repeat, special.expit(-odds), 1.0)


def _expected_if_alive(fit: BgNbdFit, t: FloatArray, x: FloatArray, age: FloatArray) -> FloatArray:
    """E[purchases in (T, T+t] | alive at T, x]: FHL eq. 10 without P(alive).

    FHL's ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z) overflows and cancels for large x; Euler's
    transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns it into
    (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z), whose series converges faster as x grows.
    """
    if abs(fit.a - 1) < A_NEAR_ONE:  # a removable 0/0 at a = 1: interpolate between a = 1 ± 2·A_NEAR_ONE
        low, high = (
            _expected_if_alive(replace(fit, a=1 + s), t, x, age) for s in (-2 * A_NEAR_ONE, 2 * A_NEAR_ONE)
        )
        return low + (high - low) * (fit.a - 1 + 2 * A_NEAR_ONE) / (4 * A_NEAR_ONE)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = t / (alpha + age + t)
    c = a + b + x - 1
    hyp = special.hyp2f1(a + b - 1 - r, a - 1, c, z)
    # scipy's hyp2f1 gives nan or inf when C-A-B is an integer (here x + r - a + 1) of about 100 or more
    # and z > 0.9; the function is smooth in A, so moving A by one part in 1e9 moves it by about as much.
    hyp = np.where(np.isfinite(hyp), hyp, special.hyp2f1((a + b - 1 - r) * (1 + 1e-9), a - 1, c, z))
    return c / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * hyp)


def expected_purchases(
    fit: BgNbdFit, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Expected purchases in the next t periods given x, t_x and T (FHL eq. 10), broadcast over all inputs."""
    x, t_x, age = _summary(frequency, recency, T)
    horizon = _column(t, "t")
    return p_alive(fit, x, t_x, age) * _expected_if_alive(fit, horizon, x, age)


def expected_purchases_new(fit: BgNbdFit, t: ArrayLike) -> FloatArray:
    """Expected repeat purchases in the first t periods after a new customer's first purchase (FHL eq. 9)."""
    horizon = _column(t, "t")
    return _expected_if_alive(fit, horizon, np.zeros_like(horizon), np.zeros_like(horizon))


def _spend(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validated (x, mean spend), broadcast; the spend of rows with x = 0 is unused and set to 0."""
    x = _frequency(frequency)
    m = np.asarray(monetary_value, dtype=np.float64)
    x, m = np.broadcast_arrays(x, m)
    bad = (x > 0) & ~(np.isfinite(m) & (m > 0))
    if bad.any():
        i = _first(bad)
        raise ValueError(
            f"monetary_value must be a positive finite mean spend per repeat purchase where frequency > 0; "
            f"{int(bad.sum())} row(s) are not, first at position {i}: {m[i]}"
        )
    return x, np.where(x > 0, m, 0.0)


def _gamma_gamma_log_likelihood(
    params: FloatArray, xs: FloatArray, w_x: FloatArray, x: FloatArray, m: FloatArray, w: FloatArray
) -> tuple[float, FloatArray]:
    """Total log-likelihood of mean spends z̄ given x (Fader & Hardie's note) and its gradient in (p, q, v)."""
    p, q, v = params
    gl, dg = special.gammaln, special.digamma
    total, log_m, log_xs = w.sum(), np.log(m), np.log(xs)
    log_sum = np.log(x * m + v)  # ln(v + x·z̄), the only term that needs every row
    px = p * xs
    ll = (
        w_x @ (gl(px + q) - gl(px) + px * log_xs)
        + total * (q * np.log(v) - gl(q))
        + (w * (p * x - 1)) @ log_m
        - (w * (p * x + q)) @ log_sum
    )
    grad = np.array(
        [
            (w_x * xs) @ (dg(px + q) - dg(px) + log_xs) + (w * x) @ (log_m - log_sum),
            w_x @ (dg(px + q) - dg(q)) + total * np.log(v) - w @ log_sum,
            total * q / v - (w * (p * x + q)) @ (1 / (x * m + v)),
        ]
    )
    return float(ll), grad


def fit_gamma_gamma(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    weights: ArrayLike | None = None,
    penalizer: float = 0.0,
) -> GammaGammaFit:
    """Fit the Gamma-Gamma spend model on repeat buyers; rows with frequency 0 are ignored."""
    x, m = _spend(frequency, monetary_value)
    _check_rows(x)
    repeat = x > 0
    if not repeat.any():
        raise ValueError(
            "no customer has a repeat purchase (frequency > 0): the Gamma-Gamma model cannot be fitted"
        )
    (x, m), w = _fit_rows(x[repeat], m[repeat], weights=_weights(weights, x.size)[repeat])
    if penalizer < 0:
        raise ValueError(f"penalizer must be >= 0, got {penalizer}")
    xs, x_code = _factorize(x)
    w_x = np.bincount(x_code, weights=w, minlength=len(xs))

    def log_likelihood(params: FloatArray) -> tuple[float, FloatArray]:
        return _gamma_gamma_log_likelihood(params, xs, w_x, x, m, w)

    # Start at p = 1, q = 2, where the population mean spend p v / (q - 1) is v: the observed mean
    start = np.log([1.0, 2.0, float(w @ m) / float(w.sum())])
    log_params, converged = _minimise(_penalised(log_likelihood, float(w.sum()), penalizer), start)
    params = np.exp(log_params)
    p, q, v = (float(value) for value in params)
    return GammaGammaFit(p, q, v, log_likelihood(params)[0], float(w.sum()), converged)


def expected_spend(fit: GammaGammaFit, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
    """Expected mean spend per transaction given x and the observed mean z̄: a weighted mean of p v/(q-1) and z̄.

    (q-1)/(px+q-1) · pv/(q-1) + px/(px+q-1) · z̄, which is p(v + x z̄)/(px + q - 1). Customers without a
    repeat purchase get the population mean, which needs q > 1.
    """
    x, m = _spend(frequency, monetary_value)
    if fit.q <= 1 and (x == 0).any():
        raise ValueError(
            f"the fit has q = {fit.q} <= 1, so the population mean spend is infinite: no expected spend for "
            "customers without a repeat purchase"
        )
    return fit.p * (fit.v + x * m) / (fit.p * x + fit.q - 1)

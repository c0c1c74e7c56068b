"""Customers simulated from a known BG/NBD, for the recovery test and the timing script."""

import numpy as np


def simulate_bgnbd(
    r: float, alpha: float, a: float, b: float, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Frequency and recency of customers observed for T periods after their first purchase.

    Purchases arrive as a Poisson process of rate λ ~ Gamma(r, alpha); after each repeat purchase the
    customer dies with probability p ~ Beta(a, b), so K ~ Geometric(p) repeat purchases are ever made and
    x = min(K, N(T)). Given N(T) = n arrivals, the x-th is T times the x-th order statistic of n uniforms.
    """
    n = len(T)
    rate = rng.gamma(r, 1 / alpha, n)
    dropout = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    arrivals = rng.poisson(rate * T)
    frequency = np.minimum(arrivals, rng.geometric(dropout))
    last = rng.beta(np.maximum(frequency, 1), arrivals - frequency + 1)
    return frequency.astype(float), np.where(frequency > 0, T * last, 0.0)

"""The lookalike classifier: cross-fitted gradient-boosted trees, each customer scored by one that never saw them.

tasks/act/lookalike.py fits it (fit_classifiers) on a fit day and stores it (tasks/act/store.py); a served
day scores its customers with the stored LookalikeModel, each by the classifier of their fit-day fold.
"""

import zlib
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from tasks.shared.scoring import score_rows

# Every customer is scored by a model fitted on the sampled rows of the other folds (see
# tasks/act/lookalike.py's _similarity).
FOLDS = 5
# The models are fitted on a seeded sample of at most this many customers (see fit_sample): all of them up to
# this size, so the 20,000-customer sample is modelled as before; at 1M the five fits cost a few tenths of
# a second each and scoring (a million predictions) is what remains.
SAMPLE_ROWS = 40_000
# Seed members take at most this share of a sample that cannot hold everyone (the rest are non-members,
# who are the population the seed is told apart from), unless there are too few non-members to fill it.
# Half, not a quarter: at 1M, tier:high's models then tell 6,900 non-members apart above the audience's
# lowest score instead of 1,100 (the rest of its 99,648 tie there, see tasks/act/lookalike.py's _percentiles),
# in the same time.
SAMPLE_SEED_SHARE = 0.5
# Boosting rounds and their step: prediction time grows with the rounds (a million predictions took 3.3 s
# at 100 rounds, 0.65 s at 30 on one core), and a seed a rule over these inputs defines is learnt in fewer.
BOOSTING_ROUNDS = 30
LEARNING_RATE = 0.2


def varying_columns(inputs: pl.DataFrame) -> list[str]:
    """The informative numeric inputs: those holding more than one value (a null counting as one).

    A column that holds one value for everyone (all null, or constant without a null) cannot tell anyone
    apart, and an all-null one breaks the model's binning: it is left out.
    """
    features = inputs.drop("customer_id").cast(pl.Float64)
    # more than one value: some nulls and some values, or two different values (cheaper than n_unique)
    stats = features.select(
        *[pl.col(column).null_count().alias(f"{column}/nulls") for column in features.columns],
        *[
            (pl.col(column).min() != pl.col(column).max()).alias(f"{column}/spread")
            for column in features.columns
        ],
    ).row(0, named=True)
    return [
        column
        for column in features.columns
        if 0 < stats[f"{column}/nulls"] < inputs.height or stats[f"{column}/spread"]
    ]


def input_matrix(inputs: pl.DataFrame, columns: list[str] | None = None) -> np.ndarray:
    """The inputs' columns (default: the varying ones) as float64, nulls as NaN."""
    columns = varying_columns(inputs) if columns is None else columns
    # to_numpy of float64 columns is one copy (column-major, as the model reads it): no astype copy after it
    return inputs.select(columns).cast(pl.Float64).to_numpy().reshape(inputs.height, len(columns))


def fold_numbers(labels: np.ndarray, random_state: int) -> np.ndarray:
    """A seeded fold number (0 to FOLDS - 1) per row, seed members spread evenly over the folds."""
    rng = np.random.default_rng(random_state)
    folds = np.empty(labels.size, dtype=np.int64)
    for rows in (np.flatnonzero(labels), np.flatnonzero(~labels)):
        folds[rows] = rng.permutation(rows.size) % FOLDS
    return folds


def fit_sample(labels: np.ndarray, random_state: int, size: int) -> np.ndarray:
    """The rows the models are fitted on, sorted: all of them, or a seeded size of them.

    A sample holds seed members up to SAMPLE_SEED_SHARE of it (more only when non-members run short) and
    non-members for the rest, each drawn at random. Oversampling a rare seed shifts the model's
    probabilities, not its order, and only the order is used (percentiles, audience, evaluation).
    """
    if labels.size <= size:
        return np.arange(labels.size)
    rng = np.random.default_rng(random_state)
    positive, negative = np.flatnonzero(labels), np.flatnonzero(~labels)
    take = min(positive.size, max(int(size * SAMPLE_SEED_SHARE), size - negative.size))
    positive = rng.choice(positive, take, replace=False)
    negative = rng.choice(negative, min(negative.size, size - take), replace=False)
    return np.sort(np.concatenate([positive, negative]))


@dataclass
class LookalikeModel:
    """A fitted lookalike: the input columns, one classifier per fold, or a constant score without columns."""

    columns: list[str]
    classifiers: list[HistGradientBoostingClassifier] = field(default_factory=list)
    constant: float | None = None

    def predict(self, x: np.ndarray, folds: np.ndarray) -> np.ndarray:
        """Each row's probability of the seed from its fold's classifier (x holds self.columns)."""
        if not self.classifiers:
            return np.full(x.shape[0], self.constant)
        scores = np.empty(x.shape[0])
        for fold, model in enumerate(self.classifiers):
            rows = folds == fold
            if rows.any():
                scores[rows] = score_rows(
                    lambda block, model=model: model.predict_proba(block)[:, 1], x[rows]
                )
        return scores


def fit_classifiers(
    x: np.ndarray, labels: np.ndarray, random_state: int, sample_rows: int
) -> tuple[list[HistGradientBoostingClassifier], np.ndarray]:
    """The FOLDS classifiers of a cross-fit and each row's fold (lookalike._similarity); none without columns."""
    folds = fold_numbers(labels, random_state)
    if x.shape[1] == 0:
        return [], folds
    sampled = np.zeros(labels.size, dtype=bool)
    sampled[fit_sample(labels, random_state, sample_rows)] = True
    classifiers = []
    for fold in range(FOLDS):
        rows = np.flatnonzero(sampled & (folds != fold))
        model = HistGradientBoostingClassifier(
            max_iter=BOOSTING_ROUNDS,
            learning_rate=LEARNING_RATE,
            max_leaf_nodes=15,
            min_samples_leaf=min(20, max(2, int(labels[rows].sum()) // 2)),  # a small seed still splits
            l2_regularization=1.0,
            early_stopping=False,  # a fixed number of rounds: the same fit every run, no validation split
            random_state=random_state,
        )
        # one OpenMP thread: on a busy two-core machine the pool's threads wait for each other (at 1M
        # customers, two threads took 1.4 s instead of 0.8 to fit 80k rows and 6.1 s instead of 2.7 to
        # predict a million at 100 rounds)
        with threadpool_limits(limits=1, user_api="openmp"):
            classifiers.append(model.fit(x[rows], labels[rows]))
    return classifiers, folds


def fold_of(customer_id: str) -> int:
    """The fold of a customer the fit day did not know: a stable hash of the id (the classifiers never saw them)."""
    return zlib.crc32(customer_id.encode()) % FOLDS

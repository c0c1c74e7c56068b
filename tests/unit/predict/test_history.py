"""The predict stage's history: per as_of, a rerun of a day replaces that day's rows and keeps the others."""

import json
from datetime import date

import pytest

from tasks.predict import predict_all, store_history
from tasks.predict.backtest import Backtest, Fold
from tasks.predict.metrics import CalibrationBin, ChurnScores
from tasks.shared.config import FeatureConfig, PredictConfig
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse

DAY, OTHER = date(2026, 11, 30), date(2026, 11, 29)


def backtest(auc: float) -> Backtest:
    """One cutoff scored by one churn model, with a one-decile calibration table."""
    scores = ChurnScores(
        customers=200,
        churn_rate=0.5,
        auc=auc,
        pr_auc=0.6,
        brier=0.2,
        calibration_error=0.05,
        top_decile_lift=1.5,
        calibration=(CalibrationBin(decile=1, customers=20, mean_predicted=0.1, observed_rate=0.15),),
    )
    fold = Fold(
        cutoff=date(2026, 9, 1), trained_on=date(2026, 6, 3), churn={"gradient_boosting": scores}, value={}
    )
    return Backtest(folds=[fold])


def model(name: str, fitted: bytes | None = None) -> dict:
    return {
        "model": name,
        "role": "churn",
        "trained_on": date(2026, 9, 1),
        "training_rows": 200,
        "used": True,
        "parameters": {"max_iter": 200},
        "feature_importances": {"recency_days": 0.1},
        "fitted": fitted,
    }


def test_a_rerun_of_a_day_replaces_its_history_and_keeps_other_days() -> None:
    wh = Warehouse(":memory:")
    store_history(wh, OTHER, "run-0", backtest(0.7), [model("recency_baseline")])
    store_history(wh, DAY, "run-1", backtest(0.8), [model("gradient_boosting", b"\x00\x01")])
    store_history(wh, DAY, "run-2", backtest(0.9), [model("gradient_boosting", b"\x02")])

    assert wh.rows("select as_of, run_id, model, fitted from predict.models order by as_of") == [
        (OTHER, "run-0", "recency_baseline", None),
        (DAY, "run-2", "gradient_boosting", b"\x02"),
    ]
    parameters, importances = wh.rows(
        "select parameters, feature_importances from predict.models where as_of = ?", [DAY]
    )[0]
    assert json.loads(parameters) == {"max_iter": 200}
    assert json.loads(importances) == {"recency_days": 0.1}
    assert wh.rows(
        "select as_of, cutoff, trained_on, role, model, value from predict.backtests where metric = 'auc' order by as_of"
    ) == [
        (OTHER, date(2026, 9, 1), date(2026, 6, 3), "churn", "gradient_boosting", 0.7),
        (DAY, date(2026, 9, 1), date(2026, 6, 3), "churn", "gradient_boosting", 0.9),
    ]
    assert (
        wh.scalar("select count(*) from predict.backtests where as_of = ?", [DAY]) == 7
    )  # metrics per model
    assert wh.rows(
        "select as_of, decile, customers, mean_predicted, observed_rate from predict.calibration"
    ) == [
        (OTHER, 1, 20, 0.1, 0.15),
        (DAY, 1, 20, 0.1, 0.15),
    ]


def test_predict_refuses_features_of_another_day() -> None:
    wh = Warehouse(":memory:")
    wh.execute(
        "create table features.customer_features as select 'C1' as customer_id, date '2026-11-29' as as_of"
    )
    with pytest.raises(DataError) as error:
        predict_all(wh, PredictConfig(), FeatureConfig(), DAY)
    assert str(error.value) == (
        "predict as of 2026-11-30: the features are of 2026-11-29; build the features of 2026-11-30 first"
    )

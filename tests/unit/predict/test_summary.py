"""The predict section of the report: exact lines rendered from hand-made run summaries."""

import copy
from typing import Any

from tasks.predict.summary import near_chance, render_markdown


def fold(cutoff: str, trained_on: str, role: str, model: str, **metrics: float) -> list[dict[str, Any]]:
    """The backtest rows of one model at one cutoff, as asdict(PredictResult)['backtest'] has them."""
    return [
        {"cutoff": cutoff, "trained_on": trained_on, "role": role, "model": model, "metric": m, "value": v}
        for m, v in metrics.items()
    ]


PREDICT: dict[str, Any] = {
    "as_of": "2026-11-30",
    "horizon_days": 90,
    "churn_activity": "purchase",
    "customers": 11737,
    "payers": 11737,
    "churn_model": "gradient_boosting",
    "churn_model_reason": "mean backtest AUC 0.795 beats the recency baseline's 0.719",
    "risk_tiers": {"high": 600, "low": 100, "medium": 300},
    "backtest": [
        *fold(
            "2026-06-03", "2026-03-05", "churn", "gradient_boosting", customers=6015, churn_rate=0.8, auc=0.78
        ),
        *fold(
            "2026-06-03", "2026-03-05", "churn", "recency_baseline", customers=6015, churn_rate=0.8, auc=0.7
        ),
        *fold(
            "2026-09-01",
            "2026-06-03",
            "churn",
            "gradient_boosting",
            customers=8426,
            churn_rate=0.75,
            auc=0.81,
        ),
        *fold(
            "2026-09-01", "2026-06-03", "churn", "recency_baseline", customers=8426, churn_rate=0.75, auc=0.74
        ),
        *fold("2026-09-01", "2026-06-03", "churn", "bgnbd", customers=8426, churn_rate=0.75, auc=0.76),
        *fold(
            "2026-09-01",
            "2026-06-03",
            "value",
            "bgnbd_gamma_gamma",
            customers=8426,
            actual_total=353888.625,
            predicted_total=319765.98,
        ),
        *fold(
            "2026-09-01",
            "2026-06-03",
            "value",
            "last_period_spend",
            customers=8426,
            actual_total=353888.625,
            predicted_total=801019.9,
        ),
    ],
    "backtest_means": {
        "gradient_boosting": {
            "auc": 0.795,
            "pr_auc": 0.9426,
            "brier": 0.1272,
            "calibration_error": 0.0274,
            "top_decile_lift": 1.2274,
            "churn_rate": 0.775,
        },
        "recency_baseline": {
            "auc": 0.72,
            "pr_auc": 0.9025,
            "brier": 0.1394,
            "calibration_error": 0.0208,
            "top_decile_lift": 1.1755,
            "churn_rate": 0.775,
        },
        "bgnbd": {
            "auc": 0.76,
            "pr_auc": 0.9208,
            "brier": 0.14,
            "calibration_error": 0.0465,
            "top_decile_lift": 1.2126,
            "churn_rate": 0.75,
        },
        "bgnbd_gamma_gamma": {"mae": 62.708, "aggregate_error": -0.1114, "top_decile_capture": 0.3776},
        "last_period_spend": {"mae": 1109.932, "aggregate_error": 1.3663, "top_decile_capture": None},
    },
    "skipped": [
        {
            "cutoff": "2026-03-05",
            "reason": "every customer of 2025-12-05 churned: a model cannot learn from one outcome",
        }
    ],
    "bgnbd": {
        "r": 0.24975950817931855,
        "alpha": 4.920665129429307,
        "a": 1.9029350039547464,
        "b": 2.4065512104617626,
        "log_likelihood": -78094.70850457263,
        "n_customers": 11737.0,
        "converged": True,
    },
    "gamma_gamma": {
        "p": 1.034104142364812,
        "q": 2.2487968144782777,
        "v": 179.14178807417971,
        "log_likelihood": -40831.237208592676,
        "n_customers": 7047.0,
        "converged": False,
    },
    "feature_importances": {
        "spend": -0.0009,
        "session_recency_days": 0.2537,
        "spend_per_purchase": 0.0414,
        "session_rate_30d": 0.0197,
        "purchases": 0.0174,
        "recency_days": 0.0094,
        "tenure_days": 0.0056,
        "sessions": 0.0039,
        "favourite_game": 0.0029,
        "purchase_age_days": 0.0025,
    },
    "note": "",
}


def lines_of(predict: dict[str, Any]) -> list[str]:
    return render_markdown(predict).splitlines()


def test_the_section_names_the_horizon_the_churn_definition_and_the_model_used() -> None:
    lines = lines_of(PREDICT)
    assert lines[:7] == [
        "## Churn risk and future value (流失风险与价值)",
        "",
        "As of 2026-11-30 · horizon (预测期) 90 days: churn risk, expected purchases and predicted value "
        "cover the 90 days after the day.",
        "",
        "Churn (流失): a customer with a purchase makes no purchase in the 90 days after the day "
        "(predict.churn_activity = purchase).",
        "",
        "Scored: 11,737 customers for churn risk (流失风险); 11,737 payers for P(alive), expected purchases "
        "and predicted value (预测价值).",
    ]
    assert (
        "Risk tiers come from **gradient_boosting** (梯度提升): mean backtest AUC 0.795 beats the recency baseline's 0.719."
        in lines
    )
    assert "- gradient_boosting beats the recency baseline: mean AUC 0.795 against 0.720." in lines
    assert "- bgnbd beats the recency baseline: mean AUC 0.760 against 0.720." in lines
    assert (
        "- bgnbd_gamma_gamma beats the last-period-spend baseline: mean MAE 62.71 against 1,109.93." in lines
    )
    assert render_markdown(PREDICT).endswith("is not used for the risk tier.\n")


def test_a_chinese_summary_says_who_is_scored_which_model_ranks_them_and_the_tiers() -> None:
    lines = lines_of(PREDICT)
    assert lines[7:9] == [
        "",
        "摘要：截至 2026-11-30，11,737 位客户有流失风险（未来 90 天无购买的概率），11,737 位付费客户有预测价值。"
        "风险等级来自梯度提升模型：回测平均 AUC 0.795，近度基线 0.720。"
        "高风险 600 人（60.0%），中风险 300 人（30.0%），低风险 100 人（10.0%）。",
    ]
    baseline = {**PREDICT, "churn_model": "recency_baseline", "churn_activity": "session", "risk_tiers": {}}
    assert lines_of(baseline)[8] == (
        "摘要：截至 2026-11-30，11,737 位客户有流失风险（未来 90 天不玩游戏的概率），11,737 位付费客户有预测价值。"
        "风险等级来自近度基线：没有模型胜过它。"
    )


def test_backtest_tables_format_auc_shares_and_money() -> None:
    lines = lines_of(PREDICT)
    assert (
        "Means over 2 scored cutoffs: each cutoff's customers are scored by churn models trained one horizon "
        "before it, and compared with what they did in the 90 days after it." in lines
    )
    churn = lines.index(
        "| churn model | 模型 | used | AUC | PR-AUC | Brier | calibration error | top-decile lift | churn rate |"
    )
    assert lines[churn + 1 : churn + 5] == [
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        "| gradient_boosting | 梯度提升 | yes | 0.795 | 0.943 | 0.127 | 2.7% | 1.23× | 77.5% |",
        "| recency_baseline | 近度基线 |  | 0.720 | 0.902 | 0.139 | 2.1% | 1.18× | 77.5% |",
        "| bgnbd | BG/NBD |  | 0.760 | 0.921 | 0.140 | 4.7% | 1.21× | 75.0% |",
    ]
    value = lines.index("| value model | 模型 | MAE | aggregate error | top-decile capture |")
    assert lines[value + 2 : value + 4] == [
        "| bgnbd_gamma_gamma | BG/NBD × Gamma-Gamma | 62.71 | -11.1% | 37.8% |",
        "| last_period_spend | 上期消费基线 | 1,109.93 | +136.6% | – |",  # a mean no cutoff had: –
    ]
    auc = lines.index(
        "| cutoff | trained on | customers | churn rate | gradient_boosting | recency_baseline | bgnbd |"
    )
    assert lines[auc + 2 : auc + 4] == [  # newest cutoff first; a model a cutoff did not score: –
        "| 2026-09-01 | 2026-06-03 | 8,426 | 75.0% | 0.810 | 0.740 | 0.760 |",
        "| 2026-06-03 | 2026-03-05 | 6,015 | 80.0% | 0.780 | 0.700 | – |",
    ]
    spend = lines.index(
        "| cutoff | payers | actual | bgnbd_gamma_gamma predicted | last_period_spend predicted |"
    )
    assert lines[spend + 2] == "| 2026-09-01 | 8,426 | 353,888.62 | 319,765.98 | 801,019.90 |"
    assert (
        "- 2026-03-05: every customer of 2025-12-05 churned: a model cannot learn from one outcome" in lines
    )


def test_risk_tiers_high_to_low_with_chinese_labels_and_shares() -> None:
    lines = lines_of(PREDICT)
    tiers = lines.index("| risk tier | customers | share of those scored |")
    assert lines[tiers + 2 : tiers + 5] == [
        "| high (高) | 600 | 60.0% |",
        "| medium (中) | 300 | 30.0% |",
        "| low (低) | 100 | 10.0% |",
    ]


def test_fitted_parameters_and_the_top_eight_features() -> None:
    lines = lines_of(PREDICT)
    assert (
        "- BG/NBD (purchase rate and drop-out 购买频率与流失): r = 0.2498, α = 4.921, a = 1.903, b = 2.407; "
        "fitted on 11,737 payers, log-likelihood -78,094.71, converged." in lines
    )
    assert (
        "- Gamma-Gamma (spend per purchase day 单日消费金额): p = 1.034, q = 2.249, v = 179.1; "
        "mean spend per purchase day p·v/(q − 1) = 148.34; fitted on 7,047 repeat buyers, "
        "log-likelihood -40,831.24, **did not converge**." in lines
    )
    features = lines.index("| feature | drop in AUC |")
    assert lines[features - 2] == (
        "Drop in AUC when one input is shuffled (permutation importance on the newest backtest cutoff), top 8 of 10:"
    )
    assert lines[features + 2 : features + 11] == [
        "| session_recency_days | 0.2537 |",
        "| spend_per_purchase | 0.0414 |",
        "| session_rate_30d | 0.0197 |",
        "| purchases | 0.0174 |",
        "| recency_days | 0.0094 |",
        "| tenure_days | 0.0056 |",
        "| sessions | 0.0039 |",
        "| favourite_game | 0.0029 |",
        "",
    ]


def test_a_model_that_does_not_beat_its_baseline_is_said_plainly() -> None:
    predict = copy.deepcopy(PREDICT)
    predict["churn_model"] = "recency_baseline"
    predict["churn_model_reason"] = (
        "the gradient boosting's mean backtest AUC 0.690 does not beat the recency baseline's 0.720, nor does BG/NBD's"
    )
    predict["backtest_means"]["gradient_boosting"]["auc"] = 0.69
    predict["backtest_means"]["bgnbd"]["auc"] = 0.72
    predict["backtest_means"]["bgnbd_gamma_gamma"]["mae"] = 2000.0
    lines = lines_of(predict)
    assert (
        "Risk tiers come from **recency_baseline** (近度基线): the gradient boosting's mean backtest AUC 0.690 "
        "does not beat the recency baseline's 0.720, nor does BG/NBD's." in lines
    )
    assert (
        "- **gradient_boosting does not beat the recency baseline**: mean AUC 0.690 against 0.720, "
        "so it is not used for the risk tier." in lines
    )
    assert (
        "- **bgnbd does not beat the recency baseline**: mean AUC 0.720 against 0.720, "
        "so it is not used for the risk tier." in lines
    )
    assert (
        "- **bgnbd_gamma_gamma does not beat the last-period-spend baseline**: mean MAE 2,000.00 against 1,109.93; "
        "predicted_value_90d is still its forecast, so read it with care." in lines
    )
    assert "| recency_baseline | 近度基线 | yes | 0.720 | 0.902 | 0.139 | 2.1% | 1.18× | 77.5% |" in lines


def test_predict_disabled_renders_the_note_only() -> None:
    disabled = {
        "as_of": "2026-11-30",
        "horizon_days": 30,
        "churn_activity": "session",
        "customers": 0,
        "payers": 0,
        "churn_model": None,
        "churn_model_reason": "",
        "risk_tiers": {},
        "backtest": [],
        "backtest_means": {},
        "skipped": [],
        "bgnbd": None,
        "gamma_gamma": None,
        "feature_importances": {},
        "note": "predict.enabled is false: no predictions",
    }
    assert render_markdown(disabled) == (
        "## Churn risk and future value (流失风险与价值)\n"
        "\n"
        "As of 2026-11-30 · horizon (预测期) 30 days: churn risk, expected purchases and predicted value "
        "cover the 30 days after the day.\n"
        "\n"
        "Churn (流失): a customer with a session plays no session in the 30 days after the day "
        "(predict.churn_activity = session).\n"
        "\n"
        "Note: predict.enabled is false: no predictions.\n"
    )


def test_no_backtest_fold_no_churn_model_and_no_bgnbd() -> None:
    predict = {
        **PREDICT,
        "customers": 0,
        "payers": 0,
        "churn_model": None,
        "churn_model_reason": "no churn risk: 40 customers at 2026-09-01 (fewer than predict.min_customers = 100)",
        "risk_tiers": {},
        "backtest": [],
        "backtest_means": {},
        "skipped": [
            {
                "cutoff": "2026-09-01",
                "reason": "40 customers at 2026-06-03 (fewer than predict.min_customers = 100)",
            }
        ],
        "bgnbd": None,
        "gamma_gamma": None,
        "feature_importances": {},
    }
    lines = lines_of(predict)
    assert (
        "No churn model (无流失模型): no churn risk: 40 customers at 2026-09-01 "
        "(fewer than predict.min_customers = 100)." in lines
    )
    assert "No backtest cutoff could be scored: no model's quality is measured on this day." in lines
    assert "- 2026-09-01: 40 customers at 2026-06-03 (fewer than predict.min_customers = 100)" in lines
    assert "No customer has a risk tier on this day." in lines
    assert (
        "BG/NBD not fitted (fewer payers than predict.min_customers): no P(alive), expected purchases "
        "or predicted value on this day." in lines
    )
    assert not any(line.startswith("| cutoff") or "feature" in line for line in lines)
    assert lines[-3:] == ["### How to read (阅读说明)", "", lines[-1]]


def test_a_bgnbd_without_gamma_gamma_and_a_metric_that_is_not_finite() -> None:
    predict = copy.deepcopy(PREDICT)
    predict["gamma_gamma"] = None
    predict["backtest_means"]["bgnbd_gamma_gamma"]["aggregate_error"] = float("nan")
    lines = lines_of(predict)
    assert (
        "- Gamma-Gamma not fitted (too few repeat buyers with a spend, or no finite mean spend): "
        "no predicted value on this day." in lines
    )
    assert "| bgnbd_gamma_gamma | BG/NBD × Gamma-Gamma | 62.71 | – | 37.8% |" in lines


def test_chinese_first_puts_the_chinese_of_every_heading_first_and_leaves_the_text() -> None:
    english = render_markdown(PREDICT)
    chinese = render_markdown(PREDICT, "zh")
    headings = [line for line in chinese.splitlines() if line.startswith("#")]
    assert headings == [
        "## 流失风险与价值 Churn risk and future value",
        "### 流失模型 Churn model",
        "### 回测 Backtest",
        "### 风险等级 Risk tiers",
        "### 购买频率与价值模型 Purchases and value: BG/NBD and Gamma-Gamma",
        "### 特征重要性 What drives the churn classifier",
        "### 阅读说明 How to read",
    ]
    body = [line for line in english.splitlines() if not line.startswith("#")]
    assert [line for line in chinese.splitlines() if not line.startswith("#")] == body


def test_models_near_chance_are_said_and_equal_looking_aucs_get_a_fourth_place() -> None:
    # the retail trial: bgnbd 0.5003 "beat" the recency baseline's 0.4998, shown as 0.500 against 0.500, and
    # its risk tiers drove an audience
    means = {
        "gradient_boosting": {"auc": 0.493},
        "recency_baseline": {"auc": 0.4998},
        "bgnbd": {"auc": 0.5003},
    }
    lines = lines_of({**PREDICT, "backtest_means": means})
    assert (
        "- **gradient_boosting does not beat the recency baseline**: mean AUC 0.493 against 0.500, so it is "
        "not used for the risk tier." in lines
    )
    assert "- bgnbd beats the recency baseline: mean AUC 0.5003 against 0.4998." in lines
    assert (
        "- **No model tells churners from the others here** (无模型能区分流失客户): the best mean backtest AUC is "
        "0.500, where 0.5 is a coin toss and 0.55 is little better. The risk tiers, churn_risk and the audiences "
        "built on them are close to random on this data."
    ) in lines
    assert not any("No model tells" in line for line in lines_of(PREDICT))


def test_near_chance_is_the_best_auc_under_the_line() -> None:
    assert near_chance({"gradient_boosting": {"auc": 0.52}, "recency_baseline": {"auc": 0.54}}) == 0.54
    assert near_chance({"gradient_boosting": {"auc": 0.52}, "bgnbd": {"auc": 0.55}}) is None
    assert near_chance({"gradient_boosting": {"auc": None}}) is None
    assert near_chance({}) is None

"""The predict stage's figures as a Markdown section (English, Chinese labels), for report.md and the artifact.

Reads the run summary's `predict` entry (asdict(PredictResult)) only: a pure function, so a summary read
back from JSON renders the same.
"""

import math
import re
from collections.abc import Sequence
from typing import Any

from tasks.predict.backtest import (
    BGNBD,
    CHURN_MODELS,
    CLASSIFIER,
    LAST_PERIOD,
    LIFETIME_VALUE,
    RECENCY,
    VALUE_MODELS,
    auc_pair,
)

TOP_FEATURES = 8
CHANCE_AUC = 0.55  # a best mean backtest AUC under this: no model ranks churners much better than chance
# A heading of this summary: "### Backtest (回测)", the English first.
HEADING = re.compile(r"^(?P<level>#+) (?P<en>[^(]+?) \((?P<zh>[^)]*[\u4e00-\u9fff][^)]*)\)$")
TIERS = {"high": "高", "medium": "中", "low": "低"}
MODEL_ZH = {
    CLASSIFIER: "梯度提升",
    RECENCY: "近度基线",
    BGNBD: "BG/NBD",
    LIFETIME_VALUE: "BG/NBD × Gamma-Gamma",
    LAST_PERIOD: "上期消费基线",
}
CHURN_ZH = {"purchase": "无购买", "session": "不玩游戏"}  # what churn is, in the Chinese summary
CHURN_DEFINITIONS = {
    "purchase": ("a customer with a purchase", "makes no purchase"),
    "session": ("a customer with a session", "plays no session"),
}
HOW_TO_READ = (
    "AUC is the chance that a customer who churned was given a higher risk than one who stayed: "
    "0.5 is chance, 1 is a perfect ranking. PR-AUC is the precision averaged over the churners found "
    "(compare it with the churn rate, its chance level). The Brier score is the mean squared error of "
    "the probability (lower is better). Calibration error is the mean |predicted − observed| churn rate "
    "over the ten deciles of predicted risk: near 0, a risk of 0.8 means that 80% churn. Top-decile lift "
    "is the churn rate of the 10% with the highest risk divided by everyone's (1.00× = no better than "
    "a random pick). For value: MAE is the mean |predicted − actual| spend per payer in the horizon; "
    "aggregate error is (predicted total − actual total) / actual total; top-decile capture is the share "
    "of the actual spend made by the 10% with the highest predicted value (10% = random). Every cutoff "
    "is scored by models trained on data from before it. A model that does not beat its baseline (the "
    "recency baseline for churn) is not used for the risk tier."
)


def _number(value: float | None, spec: str, suffix: str = "") -> str:
    """A formatted number, or – when missing or not finite (a metric a cutoff could not compute)."""
    if value is None or not math.isfinite(value):
        return "–"
    return format(value, spec) + suffix


def _auc(value: float | None) -> str:
    return _number(value, ".3f")


def _share(value: float | None) -> str:
    return _number(value, ".1%")


def _money(value: float | None) -> str:
    return _number(value, ",.2f")


def _count(value: float | None) -> str:
    return _number(value, ",.0f")


def _parameter(value: float) -> str:
    """A fitted parameter: four significant digits, thousands separators once it has five digits."""
    return _number(value, ",.1f" if abs(value) >= 10_000 else ".4g")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int) -> list[str]:
    """A Markdown table of formatted cells; columns from numeric_from on are right-aligned."""
    align = ["---" if i < numeric_from else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _definition(predict: dict[str, Any]) -> list[str]:
    """As of, the horizon, and what churn means."""
    horizon = predict["horizon_days"]
    activity = predict["churn_activity"]
    who, stops = CHURN_DEFINITIONS.get(activity, (f"a customer with a {activity}", f"has no {activity}"))
    return [
        f"As of {predict['as_of']} · horizon (预测期) {horizon} days: churn risk, expected purchases and "
        f"predicted value cover the {horizon} days after the day.",
        "",
        f"Churn (流失): {who} {stops} in the {horizon} days after the day "
        f"(predict.churn_activity = {activity}).",
    ]


def near_chance(means: dict[str, dict[str, float | None]]) -> float | None:
    """The best mean backtest AUC of the churn models and the baseline when it is under CHANCE_AUC (no model
    ranks churners much better than a coin toss), else None."""
    aucs = [means.get(model, {}).get("auc") for model in (CLASSIFIER, BGNBD, RECENCY)]
    best = max((auc for auc in aucs if auc is not None), default=None)
    return best if best is not None and best < CHANCE_AUC else None


def _verdicts(means: dict[str, dict[str, float | None]], horizon: int) -> list[str]:
    """Whether each model beats its baseline, in plain words; a warning when none tells churners apart."""
    lines = []
    baseline = means.get(RECENCY, {}).get("auc")
    for model in (CLASSIFIER, BGNBD):
        auc = means.get(model, {}).get("auc")
        if auc is None or baseline is None:
            continue
        shown, against = auc_pair(auc, baseline)
        if auc > baseline:
            lines.append(f"- {model} beats the recency baseline: mean AUC {shown} against {against}.")
        else:
            lines.append(
                f"- **{model} does not beat the recency baseline**: mean AUC {shown} against "
                f"{against}, so it is not used for the risk tier."
            )
    if (best := near_chance(means)) is not None:
        lines.append(
            f"- **No model tells churners from the others here** (无模型能区分流失客户): the best mean backtest AUC "
            f"is {_auc(best)}, where 0.5 is a coin toss and {CHANCE_AUC} is little better. The risk tiers, "
            "churn_risk and the audiences built on them are close to random on this data."
        )
    mae = means.get(LIFETIME_VALUE, {}).get("mae")
    baseline_mae = means.get(LAST_PERIOD, {}).get("mae")
    if mae is not None and baseline_mae is not None:
        if mae < baseline_mae:
            lines.append(
                f"- {LIFETIME_VALUE} beats the last-period-spend baseline: mean MAE {_money(mae)} "
                f"against {_money(baseline_mae)}."
            )
        else:
            lines.append(
                f"- **{LIFETIME_VALUE} does not beat the last-period-spend baseline**: mean MAE {_money(mae)} "
                f"against {_money(baseline_mae)}; predicted_value_{horizon}d is still its forecast, "
                "so read it with care."
            )
    return lines


def summary_zh(predict: dict[str, Any]) -> str:
    """The section's gist in Chinese, for a marketing reader: who is scored, which model ranks the risk and how
    well against the recency baseline, the customers of each risk tier."""
    horizon = predict["horizon_days"]
    churn = CHURN_ZH.get(predict["churn_activity"], f"无{predict['churn_activity']}")
    text = (
        f"摘要：截至 {predict['as_of']}，{predict.get('customers', 0):,} 位客户有流失风险（未来 {horizon} 天{churn}的"
        f"概率），{predict.get('payers', 0):,} 位付费客户有预测价值。"
    )
    means, model = predict.get("backtest_means") or {}, predict.get("churn_model")
    auc, baseline = means.get(model or "", {}).get("auc"), means.get(RECENCY, {}).get("auc")
    if model and model != RECENCY and auc is not None and baseline is not None:
        shown, against = auc_pair(auc, baseline)
        text += f"风险等级来自{MODEL_ZH.get(model, model)}模型：回测平均 AUC {shown}，近度基线 {against}。"
    elif model:
        text += f"风险等级来自{MODEL_ZH.get(model, model)}：没有模型胜过它。"
    else:
        text += "本日没有可用的流失模型。"
    if near_chance(means) is not None:
        text += "注意：没有模型能区分流失客户，风险等级接近随机。"
    tiers = predict.get("risk_tiers") or {}
    if total := sum(tiers.values()):
        shares = [f"{TIERS[t]}风险 {tiers[t]:,} 人（{tiers[t] / total:.1%}）" for t in TIERS if tiers.get(t)]
        text += "，".join(shares) + "。"
    return text


def _churn_model(predict: dict[str, Any]) -> list[str]:
    """Which model the risk tiers come from and why, then each model against its baseline."""
    model = predict.get("churn_model")
    reason = predict.get("churn_model_reason") or "no reason recorded"
    if model:
        line = f"Risk tiers come from **{model}** ({MODEL_ZH.get(model, model)}): {reason}."
    else:
        line = f"No churn model (无流失模型): {reason}."
    verdicts = _verdicts(predict.get("backtest_means") or {}, predict["horizon_days"])
    return ["### Churn model (流失模型)", "", line] + (["", *verdicts] if verdicts else [])


def _fitted(predict: dict[str, Any]) -> list[str]:
    """The day the models were fitted and backtested on, and whether this run fitted them again (why)."""
    fitted_on = predict.get("fitted_on")
    if not fitted_on:
        return []
    how = "fitted again this run" if predict.get("refit") else "stored, not fitted again"
    reason = predict.get("refit_reason") or ""
    return [
        "",
        f"Models fitted on {fitted_on} (模型拟合日), {how}: {reason}. The backtest and calibration below "
        f"are of {fitted_on}.",
    ]


def _per_cutoff(
    rows: list[dict[str, Any]], role: str, metrics: Sequence[str]
) -> dict[str, dict[str, dict[str, float]]]:
    """Backtest rows of a role as {cutoff: {model: {metric: value}}}, newest cutoff first."""
    cutoffs: dict[str, dict[str, dict[str, float]]] = {}
    for row in sorted(rows, key=lambda r: r["cutoff"], reverse=True):
        if row["role"] == role and row["metric"] in metrics:
            cutoffs.setdefault(row["cutoff"], {}).setdefault(row["model"], {})[row["metric"]] = row["value"]
    return cutoffs


def _backtest(predict: dict[str, Any]) -> list[str]:
    """Mean metrics per role, the AUC and spend of every cutoff, and the cutoffs that were not scored."""
    rows = predict.get("backtest") or []
    means = predict.get("backtest_means") or {}
    horizon = predict["horizon_days"]
    trained_on = {row["cutoff"]: row["trained_on"] for row in rows}
    lines = ["### Backtest (回测)", ""]
    if not rows:
        lines.append("No backtest cutoff could be scored: no model's quality is measured on this day.")
    else:
        lines += [
            f"Means over {len(trained_on)} scored cutoff{'s' if len(trained_on) > 1 else ''}: each cutoff's "
            "customers are scored by churn models trained one horizon before it, and compared with what they "
            f"did in the {horizon} days after it.",
            "",
        ]
        churn = [m for m in CHURN_MODELS if m in means]
        lines += _table(
            [
                "churn model",
                "模型",
                "used",
                "AUC",
                "PR-AUC",
                "Brier",
                "calibration error",
                "top-decile lift",
                "churn rate",
            ],
            [
                [
                    m,
                    MODEL_ZH.get(m, ""),
                    "yes" if m == predict.get("churn_model") else "",
                    _auc(means[m].get("auc")),
                    _auc(means[m].get("pr_auc")),
                    _auc(means[m].get("brier")),
                    _share(means[m].get("calibration_error")),
                    _number(means[m].get("top_decile_lift"), ".2f", "×"),
                    _share(means[m].get("churn_rate")),
                ]
                for m in churn
            ],
            numeric_from=3,
        )
        value = [m for m in VALUE_MODELS if m in means]
        if value:
            lines += [""] + _table(
                ["value model", "模型", "MAE", "aggregate error", "top-decile capture"],
                [
                    [
                        m,
                        MODEL_ZH.get(m, ""),
                        _money(means[m].get("mae")),
                        _number(means[m].get("aggregate_error"), "+.1%"),
                        _share(means[m].get("top_decile_capture")),
                    ]
                    for m in value
                ],
                numeric_from=2,
            )
        lines += ["", *_auc_per_cutoff(rows, trained_on), *_spend_per_cutoff(rows, horizon)]
    skipped = predict.get("skipped") or []
    if skipped:
        lines += ["", "Cutoffs not scored (未评估的截止日):", ""]
        lines += [f"- {s['cutoff']}: {s['reason']}" for s in skipped]
    return lines


def _first(scores: dict[str, dict[str, float]], models: Sequence[str]) -> dict[str, float]:
    """The figures of the first of the models a cutoff scored: its customers, churn rate, actual spend."""
    return next((scores[m] for m in models if m in scores), {})


def _auc_per_cutoff(rows: list[dict[str, Any]], trained_on: dict[str, str]) -> list[str]:
    """AUC of each churn model at each cutoff, with the cutoff's customers and churn rate."""
    cutoffs = _per_cutoff(rows, "churn", ("auc", "customers", "churn_rate"))
    if not cutoffs:
        return []
    models = [m for m in CHURN_MODELS if any(m in c for c in cutoffs.values())]
    return [
        "AUC per cutoff:",
        "",
        *_table(
            ["cutoff", "trained on", "customers", "churn rate", *models],
            [
                [
                    cutoff,
                    trained_on[cutoff],
                    _count(_first(scores, models).get("customers")),
                    _share(_first(scores, models).get("churn_rate")),
                    *(_auc(scores.get(m, {}).get("auc")) for m in models),
                ]
                for cutoff, scores in cutoffs.items()
            ],
            numeric_from=2,
        ),
    ]


def _spend_per_cutoff(rows: list[dict[str, Any]], horizon: int) -> list[str]:
    """Each cutoff's actual spend in the horizon against each value model's predicted total."""
    cutoffs = _per_cutoff(rows, "value", ("customers", "actual_total", "predicted_total"))
    if not cutoffs:
        return []
    models = [m for m in VALUE_MODELS if any(m in c for c in cutoffs.values())]
    return [
        "",
        f"Spend of the cutoff's payers in the {horizon} days after it, actual and predicted:",
        "",
        *_table(
            ["cutoff", "payers", "actual", *(f"{m} predicted" for m in models)],
            [
                [
                    cutoff,
                    _count(_first(scores, models).get("customers")),
                    _money(_first(scores, models).get("actual_total")),
                    *(_money(scores.get(m, {}).get("predicted_total")) for m in models),
                ]
                for cutoff, scores in cutoffs.items()
            ],
            numeric_from=1,
        ),
    ]


def _risk_tiers(predict: dict[str, Any]) -> list[str]:
    """Customers per risk tier (高/中/低) and their share of the customers with a tier."""
    tiers = predict.get("risk_tiers") or {}
    lines = ["### Risk tiers (风险等级)", ""]
    total = sum(tiers.values())
    if not total:
        return lines + ["No customer has a risk tier on this day."]
    names = [t for t in TIERS if t in tiers] + sorted(t for t in tiers if t not in TIERS)
    return lines + _table(
        ["risk tier", "customers", "share of those scored"],
        [
            [f"{t} ({TIERS[t]})" if t in TIERS else t, f"{tiers[t]:,}", _share(tiers[t] / total)]
            for t in names
        ],
        numeric_from=1,
    )


def _fit_tail(fit: dict[str, Any], who: str) -> str:
    state = "converged" if fit.get("converged") else "**did not converge**"
    return (
        f"fitted on {_count(fit.get('n_customers'))} {who}, "
        f"log-likelihood {_money(fit.get('log_likelihood'))}, {state}"
    )


def _lifetimes(predict: dict[str, Any]) -> list[str]:
    """The fitted BG/NBD and Gamma-Gamma parameters, or why they are missing."""
    lines = ["### Purchases and value: BG/NBD and Gamma-Gamma (购买频率与价值模型)", ""]
    bgnbd = predict.get("bgnbd")
    if not bgnbd:
        return lines + [
            "BG/NBD not fitted (fewer payers than predict.min_customers): no P(alive), expected purchases "
            "or predicted value on this day."
        ]
    lines.append(
        "- BG/NBD (purchase rate and drop-out 购买频率与流失): "
        + ", ".join(
            f"{name} = {_parameter(bgnbd[key])}"
            for name, key in (("r", "r"), ("α", "alpha"), ("a", "a"), ("b", "b"))
        )
        + f"; {_fit_tail(bgnbd, 'payers')}."
    )
    gamma = predict.get("gamma_gamma")
    if not gamma:
        lines.append(
            "- Gamma-Gamma not fitted (too few repeat buyers with a spend, or no finite mean spend): "
            "no predicted value on this day."
        )
    else:
        p, q, v = gamma["p"], gamma["q"], gamma["v"]
        mean = f"; mean spend per purchase day p·v/(q − 1) = {_money(p * v / (q - 1))}" if q > 1 else ""
        lines.append(
            "- Gamma-Gamma (spend per purchase day 单日消费金额): "
            f"p = {_parameter(p)}, q = {_parameter(q)}, v = {_parameter(v)}{mean}; "
            f"{_fit_tail(gamma, 'repeat buyers')}."
        )
    return lines


def _importances(predict: dict[str, Any]) -> list[str]:
    """The classifier inputs whose shuffling costs the most AUC."""
    importances = predict.get("feature_importances") or {}
    if not importances:
        return []
    ranked = sorted(importances.items(), key=lambda item: -item[1])[:TOP_FEATURES]
    return [
        "### What drives the churn classifier (特征重要性)",
        "",
        f"Drop in AUC when one input is shuffled (permutation importance on the newest backtest cutoff), "
        f"top {len(ranked)} of {len(importances)}:",
        "",
        *_table(
            ["feature", "drop in AUC"], [[name, f"{value:.4f}"] for name, value in ranked], numeric_from=1
        ),
    ]


def chinese_first(line: str) -> str:
    """A heading `## English (中文)` as `## 中文 English`; any other line as it is."""
    match = HEADING.match(line)
    return f"{match['level']} {match['zh']} {match['en']}" if match else line


def render_markdown(predict: dict[str, Any], language: str = "en") -> str:
    """The predict run summary (asdict(PredictResult)) as a Markdown section: models, backtests, tiers.

    language "zh" puts the Chinese of each heading first (the report's zh language), "en" English first.
    """
    lines = _sections(predict)
    if language == "zh":
        lines = [chinese_first(line) for line in lines]
    return "\n".join(lines) + "\n"


def _sections(predict: dict[str, Any]) -> list[str]:
    lines = ["## Churn risk and future value (流失风险与价值)", "", *_definition(predict)]
    if predict.get("note"):
        lines += ["", f"Note: {predict['note']}."]
    predicted = predict.get("customers") or predict.get("payers") or predict.get("churn_model")
    if not (predicted or predict.get("backtest") or predict.get("skipped")):
        return lines
    lines += [
        "",
        f"Scored: {predict.get('customers', 0):,} customers for churn risk (流失风险); "
        f"{predict.get('payers', 0):,} payers for P(alive), expected purchases and predicted value (预测价值).",
        "",
        summary_zh(predict),
        *_fitted(predict),
        "",
        *_churn_model(predict),
        "",
        *_backtest(predict),
        "",
        *_risk_tiers(predict),
        "",
        *_lifetimes(predict),
    ]
    importances = _importances(predict)
    if importances:
        lines += ["", *importances]
    lines += ["", "### How to read (阅读说明)", "", HOW_TO_READ]
    return lines

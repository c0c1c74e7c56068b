"""The rule-segment language: compilation to SQL with bound values, precedence, and rejections with the place."""

from pathlib import Path

import pytest
import yaml

from tasks.shared.config import ConfigError, load_config
from tasks.shared.rules import RuleError, compile_rule


@pytest.mark.parametrize(
    ("rule", "sql", "params"),
    [
        ("sessions_90d >= 5", '("sessions_90d" >= $v0)', {"v0": 5}),
        (
            "sessions_180d >= 3 AND frequency IS NULL",
            '(("sessions_180d" >= $v0) and ("frequency" is null))',
            {"v0": 3},
        ),
        ("monetary between 100 and 999.5", '("monetary" between $v0 and $v1)', {"v0": 100, "v1": 999.5}),
        (
            "recency_days not between 0 and 30",
            '("recency_days" not between $v0 and $v1)',
            {"v0": 0, "v1": 30},
        ),
        (
            "favourite_game in ('麻将', \"斗地主\")",
            '("favourite_game" in ($v0, $v1))',
            {"v0": "麻将", "v1": "斗地主"},
        ),
        ("value_tier not in ('low')", '("value_tier" not in ($v0))', {"v0": "low"}),
        ("marketing_consent = true", '("marketing_consent" = $v0)', {"v0": True}),
        ("r_score != 1", '("r_score" <> $v0)', {"v0": 1}),
        ("rfm_segment is not null", '("rfm_segment" is not null)', {}),
        ("favourite_game = 'it''s'", '("favourite_game" = $v0)', {"v0": "it's"}),
    ],
)
def test_rules_compile_to_sql_with_bound_values(rule: str, sql: str, params: dict) -> None:
    compiled = compile_rule(rule)
    assert (compiled.sql, compiled.params) == (sql, params)


def test_precedence_not_over_and_over_or() -> None:
    assert compile_rule("f_score > 1 or m_score > 2 and r_score > 3").sql == (
        '(("f_score" > $v0) or (("m_score" > $v1) and ("r_score" > $v2)))'
    )
    assert (
        compile_rule("not f_score > 1 and m_score > 2").sql
        == '((not ("f_score" > $v0)) and ("m_score" > $v1))'
    )
    assert compile_rule("(f_score > 1 or m_score > 2) and r_score > 3").sql == (
        '(((("f_score" > $v0) or ("m_score" > $v1))) and ("r_score" > $v2))'
    )


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "empty rule"),
        ("games > 5", "unknown feature 'games' at position 1; known features: recency_days, frequency,"),
        ("sessions_90d => 5", "expected a value (a number, 'text', true or false), found '>' at position 15"),
        ("sessions_90d ~ 5", "unexpected character '~' at position 14"),
        ("1; drop table x", "unexpected character ';' at position 2"),
        ("sessions_90d >= 5; drop table x", "unexpected character ';' at position 18"),
        ("sessions_90d >=", "expected a value (a number, 'text', true or false), found the end of the rule"),
        (
            "sessions_90d > 1 sessions_30d > 2",
            "expected 'and', 'or' or the end of the rule, found 'sessions_30d'",
        ),
        ("(sessions_90d > 1", "expected ')', found the end of the rule"),
        ("sessions_90d not = 1", "expected 'between' or 'in' after 'not', found '=' at position 18"),
        ("frequency is 1", "expected 'null', found '1' at position 14"),
        ("sessions_90d > frequency", "expected a value (a number, 'text', true or false), found 'frequency'"),
        ("5 < sessions_90d", "expected a feature name or '(', found '5' at position 1"),
        ("select 1", "unknown feature 'select' at position 1"),
    ],
)
def test_bad_rules_are_rejected_with_the_place(rule: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rule(rule)
    assert str(caught.value).startswith(message)


def test_config_rejects_a_bad_rule_naming_it(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("id,amount,ts\n", encoding="utf-8")
    config = {
        "warehouse": "w.duckdb",
        "sources": [
            {
                "name": "shop",
                "kind": "transactions",
                "format": "csv",
                "path": "t.csv",
                "columns": {"customer_ref": "id", "amount": "amount", "ts": "ts"},
            }
        ],
        "segments": {
            "rules": [{"name": "whales", "label_en": "Whales", "label_zh": "大R", "when": "spend > 1000"}]
        },
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "segments.rules.0: rule 'whales': unknown feature 'spend' at position 1" in str(caught.value)
    assert "(in 'spend > 1000')" in str(caught.value)

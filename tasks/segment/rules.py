"""Rule segments: each configured rule compiled (tasks/shared/rules.py), its customers found in SQL."""

from tasks.predict import ensure_predictions
from tasks.shared.config import SegmentConfig
from tasks.shared.rules import compile_rule
from tasks.shared.warehouse import Warehouse


def build_rule_memberships(wh: Warehouse, config: SegmentConfig) -> int:
    """segments.rule_memberships: one row per customer and rule segment it matches (exclusive groups applied)."""
    ensure_predictions(wh)
    wh.build_view("rule_inputs", "segments/rule_inputs")
    wh.run("ops/rule_matches")
    for rule in config.rules:
        compiled = compile_rule(rule.when)
        params = compiled.params | {
            "segment": rule.name,
            "label_en": rule.label_en,
            "label_zh": rule.label_zh,
            "priority": rule.priority,
            "exclusive_group": rule.exclusive_group,
        }
        wh.insert("_rule_matches", "segments/rule_matches", params, fragments={"condition": compiled.sql})
    memberships = wh.build("segments.rule_memberships", "segments/rule_memberships")
    wh.execute("drop table _rule_matches")
    wh.execute("drop view rule_inputs")
    return memberships

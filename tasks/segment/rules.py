"""Rule segments: each configured rule compiled (tasks/shared/rules.py), its customers found in SQL."""

from collections.abc import Mapping

from tasks.predict import ensure_predictions
from tasks.shared import shards as sharding
from tasks.shared.config import SegmentConfig
from tasks.shared.rules import compile_rule
from tasks.shared.warehouse import Warehouse


def build_rule_memberships(
    wh: Warehouse,
    config: SegmentConfig,
    shard: Mapping[str, str] = sharding.ALL,
    table: str = "segments.rule_memberships",
    temp: bool = False,
) -> int:
    """segments.rule_memberships: one row per customer and rule segment it matches (exclusive groups applied).

    shard: the customers whose memberships are found (tasks/shared/shards.py), into table (temp: a temp table,
    a shard's). A rule tests one customer's inputs, so a shard's rows are those customers' rows of all.
    """
    ensure_predictions(wh)
    # a temp view: each shard's process has its own (a view in the warehouse would be one for all of them)
    wh.build_view("rule_inputs", "segments/rule_inputs", temp=True, fragments=shard)
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
    memberships = wh.build(table, "segments/rule_memberships", temp=temp)
    wh.execute("drop table _rule_matches")
    wh.execute("drop view rule_inputs")
    return memberships

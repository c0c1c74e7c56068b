"""Model tests of segments/customer_tags: the activity tag counts purchases, sessions and events, at its thresholds."""

from __future__ import annotations

from datetime import timedelta

from tasks.segment import build_customer_segments
from tasks.segment.tags import build_tags
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, segment_inputs


def activity(wh: Warehouse) -> list[tuple[str, str]]:
    return wh.rows("select customer_id, value from segments.customer_tags where tag = 'activity' order by 1")


def test_activity_is_inactive_only_without_any_activity_in_30_days(wh: Warehouse) -> None:
    # C1: 5 sessions in 30 days, active today; C2: a purchase 40 days ago and an event 10 days ago, no
    # session; C3: 2 sessions, active 3 days ago
    segment_inputs(wh)
    build_customer_segments(wh)
    build_tags(wh)
    # C2 was 不活跃 when sessions alone counted: its event 10 days ago makes it active (lifecycle 活跃 agrees)
    assert activity(wh) == [("C1", "中活跃"), ("C2", "低活跃"), ("C3", "低活跃")]
    for days, tag in ((29, "低活跃"), (30, "不活跃"), (None, "不活跃")):
        last = None if days is None else SEGMENTS_AS_OF - timedelta(days=days)
        wh.execute(
            "update segments.customer_segments set last_active_date = ? where customer_id = 'C2'", [last]
        )
        build_tags(wh)
        assert activity(wh)[1] == ("C2", tag), days
    wh.execute("update segments.customer_segments set sessions_30d = 15 where customer_id = 'C1'")
    build_tags(wh)
    assert activity(wh)[0] == ("C1", "高活跃")


def tags_of(wh: Warehouse, customer_id: str) -> dict[str, list[str]]:
    rows = wh.rows(
        "select tag, tag_zh, value from segments.customer_tags where customer_id = ? order by all",
        [customer_id],
    )
    found: dict[str, list[str]] = {}
    for tag, tag_zh, value in rows:
        found.setdefault(f"{tag}/{tag_zh}", []).append(value)
    return found


def test_optional_tags_are_left_out_when_null_and_the_others_kept(wh: Warehouse) -> None:
    segment_inputs(wh)
    build_customer_segments(wh)
    wh.execute(
        "update segments.customer_segments set favourite_game = '麻将', risk_tier_zh = '高风险', "
        "marketing_consent = false, value_tier_zh = '高价值', lifecycle_stage_zh = '活跃', "
        "rfm_segment_zh = '重要价值客户', rfm_cn_class = '重要价值', cluster_name_zh = '高频玩家' "
        "where customer_id = 'C1'"
    )
    build_tags(wh)
    kept = {
        "activity/活跃度": ["中活跃"],
        "cluster/聚类": ["高频玩家"],
        "favourite_game/偏好游戏": ["麻将"],
        "lifecycle_stage/生命周期": ["活跃"],
        "marketing_consent/营销许可": ["否"],
        "rfm_cn_class/RFM八类": ["重要价值"],
        "rfm_segment/RFM分群": ["重要价值客户"],
        "risk_tier/流失风险": ["高风险"],
        "value_tier/付费等级": ["高价值"],
    }
    rules = {key: values for key, values in tags_of(wh, "C1").items() if key.startswith("rule_segment/")}
    assert {key: values for key, values in tags_of(wh, "C1").items() if key not in rules} == kept
    wh.execute(
        "update segments.customer_segments set favourite_game = null, risk_tier_zh = null, "
        "marketing_consent = null, cluster_name_zh = null where customer_id = 'C1'"
    )
    build_tags(wh)
    # the optional tags go; a required tag without a value stays, null, as it did in the per-tag union
    left = {key: values for key, values in tags_of(wh, "C1").items() if key not in rules}
    assert left == {
        key: ([None] if key == "cluster/聚类" else values)
        for key, values in kept.items()
        if key not in ("favourite_game/偏好游戏", "marketing_consent/营销许可", "risk_tier/流失风险")
    }
    assert (
        wh.scalar("select count(*) from segments.customer_tags where customer_id = 'C1' and as_of is null")
        == 0
    )

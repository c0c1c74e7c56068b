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

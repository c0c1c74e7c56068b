"""Customer tags (客户标签): a long table (as_of, customer_id, tag, tag_zh, value) for the customer 360 view."""

from tasks.segment.naming import ACTIVE_DAYS, HIGH_SESSIONS_30D, MEDIUM_SESSIONS_30D
from tasks.shared.warehouse import Warehouse

# The activity tag's thresholds: the cluster names' words are checked against the same numbers.
TAG_PARAMS = {
    "active_days": ACTIVE_DAYS,
    "medium_sessions": MEDIUM_SESSIONS_30D,
    "high_sessions": HIGH_SESSIONS_30D,
}


def build_tags(wh: Warehouse) -> int:
    """Build segments.customer_tags from segments.customer_segments and the rule memberships."""
    return wh.build("segments.customer_tags", "segments/customer_tags", TAG_PARAMS)

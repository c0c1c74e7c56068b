"""Customer tags (客户标签): a long table (as_of, customer_id, tag, tag_zh, value) for the customer 360 view."""

from tasks.shared.warehouse import Warehouse


def build_tags(wh: Warehouse) -> int:
    """Build segments.customer_tags from segments.customer_segments and the rule memberships."""
    return wh.build("segments.customer_tags", "segments/customer_tags")

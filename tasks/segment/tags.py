"""Customer tags (客户标签): a long table (as_of, customer_id, tag, tag_zh, value) for the customer 360 view."""

from datetime import date

from tasks.shared.warehouse import Warehouse


def build_tags(wh: Warehouse) -> int:
    """Build segments.customer_tags from segments.customer_segments and the rule memberships."""
    return wh.build("segments.customer_tags", "segments/customer_tags")


def publish_tags(wh: Warehouse, as_of: date) -> int:
    """Replace the as_of's rows of published.customer_tags (call inside the publish transaction)."""
    with wh.transaction():
        wh.execute(
            "create table if not exists published.customer_tags as from segments.customer_tags limit 0"
        )
        wh.execute("delete from published.customer_tags where as_of = ?", [as_of])
        wh.execute("insert into published.customer_tags by name from segments.customer_tags")
        return wh.scalar("select count(*) from published.customer_tags where as_of = ?", [as_of])

"""Published customer tags as spans of each customer's tag set: a publish writes only the customers whose tags changed.

published.customer_tags is a view (sql/published/customer_tags_by_day.sql) with the rows and columns of the
earlier per-day table: every published day (published.customer_tag_days) with the tag rows of each
customer's span that covers it. A span (published.customer_tag_spans) says that a customer has one tag set
on every published day from valid_from up to, not including, valid_to (null: open); the set's rows are
stored once per customer and set (published.customer_tag_sets, by the set's hash). A day costs one pass
over its tags that sums each customer's row hashes (sql/published/tag_sets.sql), a comparison of those
sums with the spans that cover the day, and writes for the few percent of customers whose set changed;
the earlier table took every tag row of every day (~10 per customer).

Publishing a day d (new, or again) gives d exactly the day's tags and leaves every other published day as
it was: the span of a changed customer that covers d is cut around d; the day's set gets a span from d to
the next published day, joined with the same set's spans that end at d or start there. This holds for a
day after the last one, a rerun of a day, and a backfill of a day before or between published days.
Erasure deletes a customer's spans and sets like any table's rows keyed by customer_id.
"""

from datetime import date

from tasks.shared.warehouse import Warehouse

VIEW = "published.customer_tags"
DAYS = "published.customer_tag_days"
SPANS = "published.customer_tag_spans"
SETS = "published.customer_tag_sets"
TEMPS = ("_tag_sets", "_tag_changes", "_tag_span_edits", "_tag_new_sets", "_old_tag_sets")


def publish_tags(wh: Warehouse, as_of: date) -> int:
    """Give the as_of the day's tags in published.customer_tags (inside the publish transaction); return its rows."""
    with wh.transaction():
        wh.ensure("published/customer_tag_days")
        if VIEW in wh.base_tables(["published"]):
            spans_from_table(wh)
        day_tags = wh.model_sql("published/customer_tags")
        wh.build("_tag_sets", "published/tag_sets", temp=True, fragments={"tags": day_tags})
        rows = int(wh.scalar("select coalesce(sum(tag_rows), 0) from _tag_sets"))
        if not wh.table_exists(SPANS):
            # the first publish: both tables created with their rows (an empty table filled in the same
            # transaction can hide rows in DuckDB 2.0: sql/ops/published_table.sql)
            wh.build(SPANS, "published/customer_tag_spans", {"as_of": as_of})
            wh.build("_tag_new_sets", "published/tag_first_sets", temp=True)
            wh.build(SETS, "published/tag_set_rows", fragments={"day_tags": day_tags})
        else:
            update_spans(wh, as_of, day_tags)
        if not wh.scalar(f"select count(*) from {DAYS} where as_of = ?", [as_of]):
            wh.execute(f"insert into {DAYS} values (?)", [as_of])
        wh.build_view(VIEW, "published/customer_tags_by_day")
        wh.execute("".join(f"drop table if exists {temp};" for temp in TEMPS))
    return rows


def update_spans(wh: Warehouse, as_of: date, day_tags: str) -> None:
    """Change the spans and sets of the customers whose tag set on as_of (_tag_sets) differs from what the spans give it."""
    following = wh.scalar(f"select min(as_of) from {DAYS} where as_of > ?", [as_of])
    wh.build("_tag_changes", "published/tag_set_changes", {"as_of": as_of}, temp=True)
    wh.build("_tag_span_edits", "published/tag_span_edits", {"as_of": as_of, "next": following}, temp=True)
    wh.build("_tag_new_sets", "published/tag_new_sets", temp=True)  # before the edits: see the model
    wh.run("published/tag_spans_drop")
    wh.insert(SPANS, "published/tag_spans_added")
    wh.insert(SETS, "published/tag_set_rows", fragments={"day_tags": day_tags})
    wh.run("published/tag_sets_unused")


def spans_from_table(wh: Warehouse) -> None:
    """Replace an earlier version's published.customer_tags table (a row per day and tag) with spans and sets.

    Its days become published.customer_tag_days; rows without a Chinese tag name (older still) keep null.
    An empty table is dropped (the first publish then creates the spans). The caller defines the view.
    """
    if not wh.count(VIEW):
        wh.execute(f"drop table {VIEW}")
        return
    if "tag_zh" not in wh.columns(VIEW):
        wh.execute(f"alter table {VIEW} add column tag_zh varchar")
    wh.execute(
        f"insert into {DAYS} select distinct as_of from {VIEW} where as_of not in (select as_of from {DAYS})"
    )
    wh.build("_old_tag_sets", "published/tag_sets", temp=True, fragments={"tags": f"select * from {VIEW}"})
    wh.build(SPANS, "published/tag_spans_from_table")
    wh.build(SETS, "published/tag_sets_from_table")
    wh.execute(f"drop table {VIEW}")

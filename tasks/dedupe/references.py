"""Fact rows whose customer_ref points at no record of their customers source: said, not silently resolved.

A transaction whose customer_ref is not a source_id of the customers source it points into becomes a
customer record of its own (known only from its facts): right for a guest, wrong when both systems name
the same customer differently, e.g. `17850.0` in a spreadsheet export against `17850` in the CRM. Then
every buyer becomes two customers, a "No Purchase" one from the CRM and one from the payments, and the
run itself would not show it. A source without a customers source can do the same to itself: two files of one
shop export, one writing 17850 and one 17850.0 (core/decimal_refs.sql).
"""

from tasks.shared.contracts import FACT_KINDS
from tasks.shared.warehouse import Warehouse

# Above this share of a source's distinct customer_ref values matching no record, the run says so.
UNMATCHED_SHARE = 0.5


def unmatched_references(wh: Warehouse, changes: str | None = None) -> list[str]:
    """One line per fact source most of whose customer_ref values match no record of its customers source.

    changes: a table of ops/file_changes: only the facts of its new files are read (a daily run reads the
    day's files, not every staged fact again); default: every staged fact.
    """
    if not wh.table_exists("staging.customers"):
        return []
    lines = []
    for kind in FACT_KINDS:  # a source is of one kind: each is counted in its kind's table only
        if not wh.table_exists(f"staging.{kind}"):
            continue
        facts = f"staging.{kind}"
        if changes is not None:
            wh.build_view("_new_facts", "core/new_facts", {"facts": facts, "changes": changes}, temp=True)
            facts = "_new_facts"
        for row in wh.select("core/unmatched_refs", identifiers={"facts": facts}):
            if row["unmatched"] > UNMATCHED_SHARE * row["refs"]:
                lines.append(unmatched_line(row))
        for row in wh.select(
            "core/decimal_refs", identifiers={"facts": facts, "all_facts": f"staging.{kind}"}
        ):
            lines.append(
                f"source {row['source']}: {row['refs']:,} customer_ref values are whole numbers written as decimals "
                f"that the source also writes without them (e.g. {', '.join(row['examples'])}): each person is two "
                "customers; map customer_ref as regexp_replace(<column>, '[.]0+$', '')"
            )
    wh.execute("drop view if exists _new_facts")
    return sorted(lines)


def unmatched_line(row: dict) -> str:
    """What a row of core/unmatched_refs says, with the mapping that matches refs written as decimals."""
    examples = ", ".join(repr(value) for value in row["examples"])
    line = (
        f"source {row['source']}: {row['unmatched']:,} of {row['refs']:,} customer_ref values "
        f"({row['unmatched'] / row['refs']:.0%}) match no record of customers source "
        f"{row['customer_source']} (e.g. {examples}); each becomes a customer of its own"
    )
    if row["without_decimals"]:
        line += (
            f". {row['without_decimals']:,} of them would match without a trailing '.0': map customer_ref as "
            "regexp_replace(<column>, '[.]0+$', '')"
        )
    return line

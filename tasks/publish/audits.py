"""The audits of a publish: queries in sql/audits/ that return the offending rows (run first), and the
export audit (run last, before an export version goes live): the files hold the day's published rows."""

from datetime import date
from pathlib import Path

import polars as pl

from tasks.shared.errors import DataError
from tasks.shared.warehouse import SQL_DIR, Warehouse

AUDITS = sorted(p.stem for p in (SQL_DIR / "audits").glob("*.sql"))

# The export files that hold one row per published customer of the day.
CUSTOMER_FILES = ("customer_segments.csv", "customer_segments.parquet")


def run_audits(wh: Warehouse, as_of: date) -> None:
    """Run every audit query; raise a DataError listing the ones that returned rows."""
    failures = []
    for audit in AUDITS:
        rows = wh.audit(audit, {"as_of": as_of})
        if rows:
            failures.append(f"{audit}: {len(rows)} offending rows, e.g. {rows[0]}")
    if failures:
        raise DataError("audits failed, nothing was published:\n  " + "\n  ".join(failures))


def file_rows(path: Path) -> int:
    """Data rows of a CSV or Parquet export as read back from the file (CSV parsed: quoted newlines stay in their row)."""
    if path.suffix == ".parquet":
        return pl.scan_parquet(path, glob=False).select(pl.len()).collect().item()
    return pl.scan_csv(path, infer_schema=False, glob=False).select(pl.len()).collect().item()


def audit_exports(wh: Warehouse, as_of: date, folder: Path) -> int:
    """Check a written export version against the warehouse before it goes live; return the day's published rows.

    Every customer file must hold as many rows as published.customer_segments has for as_of, the
    segment sizes must add up to them, and none of it may be empty when the day has customers
    (segments.customer_segments). Otherwise a DataError names the day, the file and both counts.
    """
    published = wh.scalar("select count(*) from published.customer_segments where as_of = ?", [as_of])
    customers = (
        wh.scalar("select count(*) from segments.customer_segments where as_of = ?", [as_of])
        if wh.table_exists("segments.customer_segments")
        else 0
    )
    failures = [
        f"{name} holds {rows} rows, published.customer_segments {published} rows of that day"
        for name in CUSTOMER_FILES
        if (rows := file_rows(folder / name)) != published
    ]
    sizes = pl.read_csv(
        folder / "segment_sizes.csv",
        columns=["customers"],
        schema_overrides={"customers": pl.Int64},
        glob=False,  # an exports path may hold [ ] * ?
    )
    sized = sizes["customers"].sum()
    if sized != published:
        failures.append(
            f"segment_sizes.csv counts {sized} customers, published.customer_segments {published} rows of that day"
        )
    if customers and not published:
        failures.append(f"published.customer_segments has 0 rows of a day with {customers} customers")
    if failures:
        raise DataError(
            f"export audit of {as_of} failed, the previous export version stays live:\n  "
            + "\n  ".join(failures)
        )
    return published

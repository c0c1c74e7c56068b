"""The audits a publish runs first: queries in sql/audits/ that return the offending rows."""

from datetime import date

from tasks.shared.errors import DataError
from tasks.shared.warehouse import SQL_DIR, Warehouse

AUDITS = sorted(p.stem for p in (SQL_DIR / "audits").glob("*.sql"))


def run_audits(wh: Warehouse, as_of: date) -> None:
    """Run every audit query; raise a DataError listing the ones that returned rows."""
    failures = []
    for audit in AUDITS:
        rows = wh.audit(audit, {"as_of": as_of})
        if rows:
            failures.append(f"{audit}: {len(rows)} offending rows, e.g. {rows[0]}")
    if failures:
        raise DataError("audits failed, nothing was published:\n  " + "\n  ".join(failures))

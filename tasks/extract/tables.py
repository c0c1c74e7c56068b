"""The staging tables of each kind, and a source's raw table: their names and columns."""

from tasks.shared.config import SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS, FACT_KINDS
from tasks.shared.warehouse import Warehouse, quote_identifier


def staging_columns(kind: str) -> str:
    """The column list of staging.<kind> (sql/staging/staging_table.sql): canonical fields and types."""
    return ",\n    ".join(f'"{field}" {sql_type}' for field, sql_type in CANONICAL_FIELDS[kind].items())


def unattributed_table(kind: str) -> str:
    """The staging table of a fact kind's unattributed rows (no customer reference): staging.unattributed_<kind>."""
    return f"staging.unattributed_{kind}"


def staging_tables(kind: str) -> list[str]:
    """The staging tables holding a kind's staged rows: staging.<kind>, and its unattributed rows' table."""
    return [f"staging.{kind}", *([unattributed_table(kind)] if kind in FACT_KINDS else [])]


def create_staging_tables(wh: Warehouse) -> None:
    """Create staging.<kind> for every source kind, and staging.unattributed_<kind> for facts, if missing."""
    for kind in CANONICAL_FIELDS:
        for table in staging_tables(kind):
            wh.run(
                "staging/staging_table",
                identifiers={"table": table.removeprefix("staging.")},
                fragments={"columns": staging_columns(kind)},
            )


def raw_table(source: SourceConfig) -> str:
    """The quoted name of a source's raw table."""
    return quote_identifier(f"raw.{source.name}")


def raw_types(wh: Warehouse, source: SourceConfig) -> dict[str, str]:
    """DuckDB types of the raw columns of a source, as `raw:<name>`."""
    return {f"raw:{name}": sql_type for name, sql_type in wh.describe(raw_table(source))}

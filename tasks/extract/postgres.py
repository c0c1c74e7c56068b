"""PostgreSQL sources: a table or query read through ADBC, past the watermark of the last load.

A watermark reads the rows past the highest value loaded; a row whose watermark is null is never past any value,
so it would be read by the first load and never again (one added or changed later is never loaded): such rows
stop the read, naming how to give every row a value.
"""

from datetime import datetime

import duckdb

from tasks.extract.diagnose import postgres_stream_error
from tasks.extract.readers import limit_clause
from tasks.shared.config import SourceConfig
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse, quote_column, quote_identifier


def read_postgres(
    wh: Warehouse,
    source: SourceConfig,
    table: str,
    since: str | None,
    batch: str,
    limit: int | None = None,
    timeout_seconds: int | None = None,
) -> list[str]:
    """Replace temp table `table` with the source's rows past the watermark `since`; return its columns.

    Rows stream from PostgreSQL through ADBC as Arrow record batches into DuckDB (bounded memory).
    limit: the first rows only (a sample); timeout_seconds: limit on connecting and on the query.
    """
    import adbc_driver_postgresql.dbapi as adbc

    relation = (
        ".".join(f'"{part}"' for part in source.table.split("."))
        if source.table is not None
        else f"({source.query})"
    )
    sql = f"select * from {relation} as src"
    params: list[object] = []
    if source.watermark is not None:
        column = f'src."{source.watermark}"'
        if since is not None:
            sql += f" where {column} > $1"
            params.append(since)
        sql += f" order by {column}"
    sql += limit_clause(limit)
    dsn = source.connection.dsn(source.name)
    if timeout_seconds is not None:
        separator = ("&" if "?" in dsn else "?") if "://" in dsn else " "
        dsn += f"{separator}connect_timeout={int(timeout_seconds)}"
    try:
        with adbc.connect(dsn) as con, con.cursor() as cursor:
            # the source is only ever read: a query that tries to write fails in the database
            cursor.execute("set session characteristics as transaction read only")
            if timeout_seconds is not None:
                cursor.execute(f"set statement_timeout = {int(timeout_seconds) * 1000}")
            if source.watermark is not None:
                _no_null_watermarks(cursor, relation, source)
                if since is not None:  # the watermark is stored as text; compare in the column's own type
                    sql = sql.replace(
                        "> $1", f"> cast($1 as {_column_type(cursor, relation, source.watermark)})"
                    )
            cursor.execute(sql, params or None)
            reader = cursor.fetch_record_batch()
            with wh.registered("_pg_batch", reader):
                wh.build(table, "staging/postgres_batch", {"batch": batch}, temp=True)
    except (adbc.OperationalError, adbc.InterfaceError, OSError) as exc:  # the server or network: may recover
        raise ConnectionError(
            f"source {source.name!r}: PostgreSQL read failed: {str(exc).splitlines()[0]}"
        ) from exc
    except duckdb.InvalidInputException as exc:  # libpq's error while DuckDB read the rows' stream, wrapped
        if (error := postgres_stream_error(source.name, exc)) is None:
            raise
        raise error from exc
    except adbc.Error as exc:  # the query, the table or the permissions: retrying will not help
        said = str(exc).splitlines()[0]
        if source.watermark is not None and f"column src.{source.watermark} does not exist" in said.replace(
            '"', ""
        ):
            said = _missing_watermark(dsn, relation, source)
        raise DataError(f"source {source.name!r}: PostgreSQL query failed: {said}") from None
    return wh.columns(table)


def _no_null_watermarks(cursor: object, relation: str, source: SourceConfig) -> None:
    """Raise DataError when rows of the source have no watermark value: no read past a value sees them again."""
    cursor.execute(f'select count(*) from {relation} as src where src."{source.watermark}" is null')
    (nulls,) = cursor.fetchone()
    if nulls:
        where = source.table or "the query"
        raise DataError(
            f"source {source.name!r}: {nulls:,} rows of {where} have no {source.watermark} (the watermark): a load "
            f"reads the rows past the last {source.watermark} loaded, which such a row never is, so one added or "
            "changed later would never be loaded; give every row a value, e.g. query: select *, "
            f"coalesce({source.watermark}, created_at) as changed_at from … with watermark: changed_at (or remove "
            "watermark to read a full snapshot each run)"
        )


def _missing_watermark(dsn: str, relation: str, source: SourceConfig) -> str:
    """What to say when the watermark column is not in the source's table or query: its columns, when they can be read."""
    import adbc_driver_postgresql.dbapi as adbc

    said = (
        f"the watermark column {source.watermark!r} (sources.{source.name}.watermark) is not a column of "
        f"{source.table or 'the query'}"
    )
    try:
        with adbc.connect(dsn) as con, con.cursor() as cursor:
            cursor.execute(f"select * from {relation} as src limit 0")
            columns = [d[0] for d in cursor.description]
    except adbc.Error:
        return said
    return (
        f"{said}; its columns: {', '.join(columns)}. Was it renamed? Set watermark to the column that holds each "
        "row's last change"
    )


def _column_type(cursor: object, relation: str, column: str) -> str:
    """The PostgreSQL type name of a column of relation, an empty one too (the union's null takes the type)."""
    cursor.execute(
        f'select pg_typeof(w)::text from (select src."{column}" as w from {relation} as src union all select null) '
        "as typed limit 1"
    )
    return cursor.fetchone()[0]


# DuckDB types of a watermark that are times: a value past the load's future limit does not move it
TIME_TYPES = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "DATE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


def batch_watermark(
    wh: Warehouse, source: SourceConfig, table: str, future_limit: datetime
) -> tuple[str | None, list[str]]:
    """The highest watermark value of a database batch (temp table `table`) as text, None without a watermark;
    and the values past future_limit it leaves out (a row dated 2099 would skip every later change: staging
    quarantines it, and the next run reads it again)."""
    if source.watermark is None:
        return None, []
    column, relation = quote_column(source.watermark), quote_identifier(table)
    kind = dict(wh.describe(relation)).get(source.watermark, "")
    if kind not in TIME_TYPES:
        return wh.scalar(f"select max({column})::varchar from {relation}"), []
    future = f"coalesce({column}::timestamptz > $limit, false)"
    highest, later = wh.rows(  # one pass: the highest value within the limit, the first three past it
        f"select max({column}) filter (where not {future})::varchar, "
        f"list(distinct {column}::varchar order by {column}::varchar) filter (where {future})[:3] from {relation}",
        {"limit": future_limit},
    )[0]
    return highest, later or []

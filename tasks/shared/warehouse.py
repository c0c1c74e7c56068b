"""The one object that owns the DuckDB warehouse file.

It opens the file (read-write or read-only), runs `.sql` model files with bound parameters,
and replaces tables inside a transaction. Like Splink's DuckDBAPI it takes a path or a live
connection, so tests hand it ``":memory:"``.
"""

import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from tasks.shared.contracts import end_of_day
from tasks.shared.errors import WaitedTooLong
from tasks.shared.lock import duckdb_lock_holder, locked_message, scratch_folder, wait_logger

if TYPE_CHECKING:
    import polars as pl

    from tasks.shared.config import PipelineConfig

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

# Warehouse layers, in data-flow order. See the README for what each holds.
SCHEMAS = ("raw", "staging", "core", "features", "predict", "segments", "act", "published", "audit")

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
COMMENT = re.compile(r"^\s*--[^\n]*", re.M)  # whole-line comments (a header) only
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


class WarehouseLockedError(RuntimeError):
    """Another process has the warehouse file open: a writer (for anyone), or a reader (for a writer)."""


class WarehouseBusyTimeout(WaitedTooLong):
    """A writer waited the run's whole time limit for another process to close the warehouse file."""


LOG_WAIT_EVERY_SECONDS = 30.0


def quote_identifier(name: str) -> str:
    """A schema-qualified table name, checked against a strict pattern before it goes into SQL."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"not a safe table name: {name!r}")
    return ".".join(f'"{part}"' for part in name.split("."))


def sql_path(model: str) -> Path:
    """The file of a SQL model such as 'features/customer_features'."""
    path = SQL_DIR / f"{model}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL model {model!r} at {path}")
    return path


class Warehouse:
    """A DuckDB warehouse: a file path, ':memory:', or an existing connection."""

    def __init__(
        self,
        database: str | Path | duckdb.DuckDBPyConnection,
        *,
        read_only: bool = False,
        timezone: str = "Asia/Shanghai",
        wait_seconds: float | None = None,
        lake: tuple[str, Path] | None = None,
    ) -> None:
        """wait_seconds: a writer waits up to this long while another process has the file open (see _connect).

        lake: (catalog connection URI, data folder) of a DuckLake warehouse (tasks/shared/lake.py); database
        is then ignored."""
        self.lake = lake is not None
        if lake is not None:
            from tasks.shared.lake import connect_lake

            self.con = connect_lake(lake[0], lake[1], read_only=read_only)
            self.path = None
            self._owned = True
        elif isinstance(database, duckdb.DuckDBPyConnection):
            self.con = database
            self.path: Path | None = None
            self._owned = False
        else:
            self.path = None if str(database) == ":memory:" else Path(database)
            self.con = self._connect(database, read_only, wait_seconds)
            self._owned = True
        self.read_only = read_only
        self._depth = 0
        self._scratches = 0  # scratch spaces open (see scratch)
        self.timezone = timezone
        # Calendar days and timestamps without an offset are read in the pipeline's time zone.
        self.con.execute(f"set TimeZone = '{_checked_tz(timezone)}'")
        self.con.execute("set enable_progress_bar = false")  # logs, not terminal animations
        # Memory DuckDB has freed goes back to the system within seconds (jemalloc purges it in the
        # background) instead of staying in the process while the stage goes on in Python.
        self.con.execute("set allocator_background_threads = true")
        if self._owned and not read_only:  # a live connection's owner has set up its database
            for schema in SCHEMAS:
                self.con.execute(f"create schema if not exists {schema}")

    def _connect(
        self, database: str | Path, read_only: bool, wait_seconds: float | None = None
    ) -> duckdb.DuckDBPyConnection:
        """Open the file; a writer given wait_seconds waits (and says for whom) while another process has it open.

        DuckDB lets one process write a file and refuses a writer while any process reads it, so a
        refresh queues behind a read-only connection (a BI tool, a notebook) as it queues behind a run:
        it logs who holds the file every 30 s and fails with WarehouseBusyTimeout, naming the holder,
        after wait_seconds (the config's orchestration.timeout_seconds). Without wait_seconds, and for
        readers, a held file is a WarehouseLockedError at once."""
        if self.path is not None and not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        next_log = 0.0
        while True:
            try:
                con = duckdb.connect(str(database), read_only=read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                holder, reader = duckdb_lock_holder(str(exc))
                waited = time.monotonic() - started
                if read_only or wait_seconds is None:
                    raise WarehouseLockedError(locked_message(database, holder, reader, exc)) from exc
                if waited >= wait_seconds:
                    raise WarehouseBusyTimeout(
                        f"waited {waited:.0f} s for {holder} to close the warehouse {database} "
                        f"(orchestration.timeout_seconds = {wait_seconds:g}); "
                        + (
                            "a run writes only when no reader has the file open: close that connection, "
                            "or open the warehouse only while no run is due"
                            if reader
                            else "another process is writing to it"
                        )
                    ) from None
                if waited >= next_log:
                    wait_logger().info(
                        "waiting for the warehouse %s: %s has it open (%.0f s so far)",
                        database,
                        holder,
                        waited,
                    )
                    next_log = waited + LOG_WAIT_EVERY_SECONDS
                time.sleep(min(0.2 + waited / 10, 2.0))
        if time.monotonic() - started >= 1.0:
            wait_logger().info("got the warehouse %s after %.1f s", database, time.monotonic() - started)
        if self.path is not None and not read_only:
            # The warehouse holds personal data: readable by its owner only.
            os.chmod(self.path, 0o600)
        return con

    @classmethod
    def open(cls, config: "PipelineConfig", *, read_only: bool = False) -> "Warehouse":
        """The warehouse a pipeline config names; a writer waits for readers up to the run's time limit."""
        wait = None if read_only else config.orchestration.timeout_seconds
        lake = None if config.lake is None else (config.lake.dsn(), config.warehouse_path)
        warehouse = cls(
            config.warehouse_path, read_only=read_only, timezone=config.timezone, wait_seconds=wait, lake=lake
        )
        if config.memory_limit:  # checked against a strict pattern by the config
            warehouse.execute(f"set memory_limit = '{config.memory_limit}'")
        return warehouse

    def cutoff(self, as_of: date) -> datetime:
        """The exclusive end of day as_of in the warehouse's (the pipeline's) time zone: the `$cutoff` of a model."""
        return end_of_day(as_of, self.timezone)

    def close(self) -> None:
        """Close the connection if this object opened it."""
        if self._owned:
            self.con.close()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> None:
        """Run one statement and drain its result."""
        self.con.execute(sql, _bind(sql, params)).fetchall()

    def rows(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> list[tuple]:
        """All rows of a query."""
        return self.con.execute(sql, _bind(sql, params)).fetchall()

    def dicts(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> list[dict]:
        """All rows of a query as dicts."""
        cursor = self.con.execute(sql, _bind(sql, params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def frame(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> "pl.DataFrame":
        """A query's result as a polars DataFrame (through Arrow, without copying row by row)."""
        return self.con.sql(sql, params=_bind(sql, params)).pl()

    def scalar(self, sql: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> Any:
        """The single value of a one-row, one-column query."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    def model_sql(
        self,
        model: str,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
        fragments: Mapping[str, str] | None = None,
    ) -> str:
        """The text of a SQL model file with its {{name}} placeholders filled.

        identifiers: a plain identifier, or a list of them (joined with ", "), each checked against a strict
        pattern. fragments: SQL that code built from allowlists (the staging template filler, compiled
        rule conditions), never user text. Placeholders are filled in one pass outside comment lines, so
        a header may name them and a filled-in value is never read again as a template."""
        values: dict[str, str] = {}
        for name, value in (identifiers or {}).items():
            names = [value] if isinstance(value, str) else list(value)
            for part in names:
                quote_identifier(part)  # raises on anything that is not a plain identifier
            values[name] = ", ".join(names)
        values |= dict(fragments or {})

        def fill(match: re.Match) -> str:
            if match.group(1) not in values:
                raise ValueError(f"SQL model {model!r} has an unfilled placeholder {match.group(0)}")
            return values[match.group(1)]

        lines = sql_path(model).read_text(encoding="utf-8").splitlines(keepends=True)
        return "".join(
            line if line.lstrip().startswith("--") else PLACEHOLDER.sub(fill, line) for line in lines
        )

    def select(
        self,
        model: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
    ) -> list[dict]:
        """Run a SQL model (a select) with bound parameters and return its rows as dicts."""
        return self.dicts(self.model_sql(model, identifiers), params)

    def build(
        self,
        table: str,
        model: str,
        params: Mapping[str, Any] | None = None,
        *,
        temp: bool = False,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
        fragments: Mapping[str, str] | None = None,
    ) -> int:
        """Replace table with the result of a SQL model (a select), atomically; return its row count.

        temp: a temp table (this connection only), e.g. an intermediate step of a model too large for
        one statement."""
        sql = self.model_sql(model, identifiers, fragments)
        kind = "temp table" if temp else "table"
        with self.transaction():
            self.execute(f"create or replace {kind} {quote_identifier(table)} as {sql}", params)
        return self.count(table)

    def insert(
        self,
        table: str,
        model: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
        fragments: Mapping[str, str] | None = None,
    ) -> int:
        """Append the rows of a SQL model (a select) to table, matching columns by name; return how many."""
        sql = self.model_sql(model, identifiers, fragments)
        return self.scalar(f"insert into {quote_identifier(table)} by name {sql}", params) or 0

    def ensure(self, model: str, identifiers: Mapping[str, str | Sequence[str]] | None = None) -> None:
        """Run a table definition model (`create table if not exists ...`): the table exists afterwards."""
        self.execute(self.model_sql(model, identifiers))

    def run(
        self,
        model: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
        fragments: Mapping[str, str] | None = None,
    ) -> None:
        """Run a statement model (an update, a delete, a temp table) with bound parameters."""
        self.execute(self.model_sql(model, identifiers, fragments), params)

    def build_view(
        self,
        view: str,
        model: str,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
        *,
        temp: bool = False,
        fragments: Mapping[str, str] | None = None,
    ) -> None:
        """Replace view with a SQL model (no parameters: a view is re-evaluated when read); temp: a temp view
        (this connection only), e.g. a join read once by the next statement."""
        sql = self.model_sql(model, identifiers, fragments)
        kind = "temp view" if temp else "view"
        self.execute(f"create or replace {kind} {quote_identifier(view)} as {sql}")

    @contextmanager
    def registered(self, view: str, frame: Any) -> Iterator[None]:
        """A polars DataFrame, Arrow table or record batch reader readable as the view `view` inside the block.

        When the block fails inside a transaction, DuckDB refuses every statement but a rollback, the
        unregister included: the failure is what propagates, and the rollback that follows drops the view."""
        self.con.register(view, frame)
        try:
            yield
        except BaseException:
            with suppress(duckdb.TransactionException):
                self.con.unregister(view)
            raise
        self.con.unregister(view)

    def write_frame(self, table: str, frame: Any, *, temp: bool = False) -> int:
        """Replace table with a polars DataFrame or Arrow table; return its row count."""
        kind = "temp table" if temp else "table"
        with self.registered("_frame", frame):
            self.execute(f"create or replace {kind} {quote_identifier(table)} as select * from _frame")
        return self.count(table)

    def append_frame(self, table: str, frame: Any) -> int:
        """Append a polars DataFrame or Arrow table to table, matching columns by name; return how many rows."""
        with self.registered("_frame", frame):
            return self.scalar(f"insert into {quote_identifier(table)} by name select * from _frame") or 0

    def append_rows(self, table: str, rows: str) -> int:
        """Append the table rows to table by name; how many (none from an empty one: in a DuckDB 2.0
        transaction an insert of no rows can hide rows a later insert appends)."""
        if count := self.count(rows):
            self.execute(
                f"insert into {quote_identifier(table)} by name select * from {quote_identifier(rows)}"
            )
        return count

    def delete_returning(self, table: str, where: str, params: Sequence[Any], returning: str) -> list[tuple]:
        """Delete table's rows that match where; return their `returning` columns.

        A select and a delete in one transaction: DuckLake tables take no RETURNING clause."""
        with self.transaction():
            rows = self.rows(f"select {returning} from {quote_identifier(table)} where {where}", params)
            self.execute(f"delete from {quote_identifier(table)} where {where}", params)
        return rows

    def count(self, table: str) -> int:
        """Rows in table."""
        return self.scalar(f"select count(*) from {quote_identifier(table)}")

    def describe(
        self, relation: str, params: Mapping[str, Any] | Sequence[Any] | None = None
    ) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of a relation, in order, without reading its rows.

        relation: a quoted table name (quote_identifier) or a select.
        """
        return self.rows(f"select column_name, column_type from (describe {relation})", params)

    def columns(self, table: str) -> list[str]:
        """Column names of a table or view, in order."""
        return [name for name, _ in self.describe(quote_identifier(table))]

    def base_tables(self, schemas: Sequence[str] = SCHEMAS) -> list[str]:
        """schema.table of every base table in the given schemas (default: every layer), sorted."""
        rows = self.rows(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema in (select unnest(?)) order by 1",
            [list(schemas)],
        )
        return [name for (name,) in rows]

    def table_exists(self, table: str) -> bool:
        """Whether a schema-qualified table exists."""
        schema, name = table.split(".")
        return bool(
            self.scalar(
                "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                [schema, name],
            )
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all; nested blocks join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.con.execute("begin transaction")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.con.execute("rollback")
            raise
        finally:
            self._depth = 0
        self.con.execute("commit")

    @contextmanager
    def scratch(self) -> Iterator[tuple["Warehouse", Path]]:
        """A cursor of this connection and an empty folder, for a large intermediate step inside a stage's
        transaction: the cursor is a connection of its own (own temp tables, each statement committed), so
        what it drops is freed at once, whereas a temp table the transaction drops is kept until it ends;
        it hands its results to the transaction as Parquet files in the folder (copy_model, parquet_view).
        The folder is new in <warehouse>.scratch beside the file (emptied when no scratch is open: a killed
        run's files go), or in the system temp folder in memory; cursor and folder go afterwards."""
        parent = None
        if self.path is not None:
            parent = scratch_folder(self.path)
            if not self._scratches:
                shutil.rmtree(parent, ignore_errors=True)
            parent.mkdir(mode=0o700, exist_ok=True)  # personal data: the owner's only, as the warehouse
        folder = Path(tempfile.mkdtemp(prefix="scratch-", dir=parent))
        scratch = Warehouse(self.con.cursor(), timezone=self.timezone)
        if self.lake:  # a cursor starts in the in-memory catalog: names resolve in the lake as here
            from tasks.shared.lake import LAKE

            scratch.con.execute(f"use {LAKE}")
            scratch.lake = True
        self._scratches += 1
        try:
            yield scratch, folder
        finally:
            self._scratches -= 1
            scratch.con.close()
            shutil.rmtree(folder, ignore_errors=True)
            if parent is not None and not self._scratches:
                shutil.rmtree(parent, ignore_errors=True)

    def copy_model(
        self,
        path: Path,
        model: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, str | Sequence[str]] | None = None,
    ) -> None:
        """Write the rows of a SQL model (a select) to a Parquet file."""
        sql = self.model_sql(model, identifiers)
        self.execute(f"copy ({sql}) to {sql_literal(str(path))} (format parquet)", params)

    def parquet_view(self, view: str, path: Path) -> None:
        """Replace the temp view view with the rows of a Parquet file (read when the view is read)."""
        self.execute(
            f"create or replace temp view {quote_identifier(view)} as "
            f"select * from read_parquet({sql_literal(str(path))})"
        )

    def audit(self, model: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        """Rows an audit query returns; an empty list means the audit passed."""
        return self.select(f"audits/{model}", params)


def quote_column(name: str) -> str:
    """Any column name (a source's own, with spaces, quotes or CJK) as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A SQL string literal of text (quotes doubled), for the statements that take no parameter there."""
    return "'" + text.replace("'", "''") + "'"


def _bind(
    sql: str, params: Mapping[str, Any] | Sequence[Any] | None
) -> Mapping[str, Any] | Sequence[Any] | None:
    """Parameters for sql: named ones it does not use are left out (DuckDB rejects unused names)."""
    if not params:
        return None
    if isinstance(params, Mapping):
        code = COMMENT.sub("", sql)  # a $name a header comment mentions is not a use of it
        return {name: value for name, value in params.items() if re.search(rf"\${name}\b", code)} or None
    return params


def _checked_tz(name: str) -> str:
    """name if it can only be a time zone name (it is spliced into a SET statement)."""
    if not re.match(r"^[A-Za-z0-9_+\-/]+$", name):
        raise ValueError(f"not a time zone name: {name!r}")
    return name

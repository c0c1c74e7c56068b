"""Everything a warehouse and an export tree hold, row by row, to compare before and after an erasure."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from tasks.shared.warehouse import Warehouse, quote_identifier

Rows = Counter  # row (a tuple of (column, value) pairs) -> how many times the table holds it
Snapshot = dict[str, Rows]


def frozen(value: Any) -> Any:
    """A hashable, comparable form of a value DuckDB or polars returns (lists, structs and maps included)."""
    if isinstance(value, list | tuple):
        return tuple(frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), frozen(v)) for k, v in value.items()))
    return value


def warehouse_snapshot(wh: Warehouse) -> Snapshot:
    """Every row of every base table of every schema (temp tables aside), and of raw views (a source's files read
    in place: what the warehouse shows of them)."""
    tables = wh.rows(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where (table_type = 'BASE TABLE' or table_schema = 'raw') and table_catalog = current_database() "
        "order by 1"
    )
    snapshot = {}
    for (table,) in tables:
        cursor = wh.con.execute(f"select * from {quote_identifier(table)}")
        names = [d[0] for d in cursor.description]
        snapshot[table] = Counter(
            tuple((name, frozen(value)) for name, value in zip(names, row, strict=True))
            for row in cursor.fetchall()
        )
    return snapshot


def export_snapshot(root: Path) -> Snapshot:
    """Every file under root (symbolic links aside): a table's rows, or a text or binary file as one row."""
    snapshot = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.relative_to(root).as_posix()
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            rows = (tuple((c, frozen(v)) for c, v in row.items()) for row in frame.iter_rows(named=True))
        elif path.suffix == ".csv":
            text = path.read_bytes().decode("utf-8-sig")
            records = list(csv.reader(io.StringIO(text)))
            header = records[0] if records else []
            rows = (tuple(zip(header, record, strict=True)) for record in records[1:])
        else:
            rows = iter([(("bytes", path.read_bytes()),)])
        snapshot[name] = Counter(rows)
    return snapshot


def difference(before: Snapshot, after: Snapshot) -> tuple[Snapshot, Snapshot]:
    """(rows removed, rows added) per table or file; tables or files without a change left out."""
    removed, added = {}, {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, Counter()), after.get(name, Counter())
        if old - new:
            removed[name] = old - new
        if new - old:
            added[name] = new - old
    return removed, added


def select(snapshot: Snapshot, test: Callable[[str, Mapping[str, Any]], bool]) -> Snapshot:
    """The rows of snapshot for which test(table, row as a dict) holds; tables without any left out."""
    chosen = {}
    for name, rows in snapshot.items():
        kept = Counter({row: n for row, n in rows.items() if test(name, dict(row))})
        if kept:
            chosen[name] = kept
    return chosen


def text_of(row: Mapping[str, Any]) -> str:
    """Every value of a row as one text, to look for a value anywhere in it (inside JSON too)."""
    return json.dumps([str(v) for v in row.values()], ensure_ascii=False)

"""Raw: each source's own columns as read, plus lineage, appended batch by batch to raw.<source>."""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tasks.extract.readers import SourceFile, read_file
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.errors import DataError
from tasks.shared.warehouse import Warehouse, quote_identifier


def append_raw(
    wh: Warehouse,
    source: SourceConfig,
    batch: str,
    params: Mapping[str, Any],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
    columns: list[tuple[str, str]] | None = None,
) -> int:
    """Append the rows of a select (a file's or batch's rows with `_file`, `_row`) to raw.<source>.

    Adds lineage (sql/staging/raw_batch.sql) and any new columns; returns the rows appended.
    params: the select's named parameters. columns: the select's (name, type) when the caller has
    described it already.
    """
    raw = f"raw.{source.name}"
    lineage = {"source": source.name, "loaded_at": datetime.now().astimezone(), "run_id": run_id}
    if not wh.table_exists(raw):
        return wh.build(raw, "staging/raw_batch", {**params, **lineage}, fragments={"batch": batch})
    existing = set(wh.columns(raw))
    columns = columns or wh.describe(batch, params)
    for name, sql_type in columns:
        if name not in existing:
            logger.warning(
                "source %s: new column %r kept in raw, not mapped to a canonical field", source.name, name
            )
            quoted = name.replace('"', '""')
            wh.execute(f'alter table {quote_identifier(raw)} add column "{quoted}" {sql_type}')
    return wh.insert(raw, "staging/raw_batch", {**params, **lineage}, fragments={"batch": batch})


def missing_columns(needed: set[str], names: list[str]) -> list[str]:
    """The columns of needed that names lacks, sorted; DuckDB matches column names case-insensitively."""
    have = {name.lower() for name in names}
    return sorted(name for name in needed if name.lower() not in have)


def read_batch(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    files: list[SourceFile],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter,
) -> dict[str, int]:
    """Read files into raw.<source>; return rows read per file. A mapped column missing in a file is a DataError."""
    work_dir = config.warehouse_path.parent / f".extract-{run_id}"
    needed = source.referenced_columns()

    def load(file: SourceFile, select: str, params: Mapping[str, Any]) -> int:
        columns = wh.describe(select, params)
        names = [name for name, _ in columns]
        missing = missing_columns(needed, names)
        if missing:
            raise DataError(
                f"source {source.name!r}: file {file.name} has no column {', '.join(map(repr, missing))} "
                f"used by the mapping (its columns: {[c for c in names if not c.startswith('_')]})"
            )
        return append_raw(wh, source, select, params, run_id, logger, columns)

    counts = {}
    try:
        for file in files:
            counts[file.name] = read_file(
                wh, source, file, work_dir, lambda select, params, file=file: load(file, select, params)
            )
    finally:  # no SQL here: after a failed statement the transaction only accepts a rollback
        if work_dir.exists():
            for leftover in work_dir.glob("*"):
                leftover.unlink()
            work_dir.rmdir()
    return counts

"""Preflight: what can be known about a config before a run, checked in seconds, without Prefect.

`preflight(pipeline)` looks at every source the way extract would, on a sample: the glob matches
files, each file reads with its reader options and encoding, its header has every column the
mappings read, and the mappings, evaluated on the first rows of the files through stage_rows (the
staging models a run uses), bind, do not fail on every sampled row, and (when the sample holds every
row) do not quarantine more rows than the source allows. For a database source: the connection
variable is set, a sample reads (short timeouts). Around the run: the warehouse and exports can be
written, the suppression list is there. Each problem is one line naming where it is and what to do;
a config without problems may still quarantine single bad rows when it runs, as designed.

Nothing here imports Prefect or starts a server; the sample lives in an in-memory DuckDB. A config
that does not load is a ConfigError from load_config, with line numbers.
"""

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from tasks.extract import stage_rows
from tasks.extract.diagnose import json_rows_problem, reason_fix
from tasks.extract.excel import SheetError, unread_said, unread_sheets
from tasks.extract.kept_files import reads_in_place
from tasks.extract.load_state import create_tables, loaded_files, read_otherwise, reread_message
from tasks.extract.mapping_checks import bind_error, mapping_hint
from tasks.extract.orphans import orphan_message, orphans
from tasks.extract.overlap import read_twice
from tasks.extract.postgres import read_postgres
from tasks.extract.problems import Problem, missing_columns_problem, no_files, read_fix
from tasks.extract.raw import append_raw, missing_columns
from tasks.extract.readers import (
    SourceFile,
    UnreadableFiles,
    ends_a_line,
    read_file,
    reader_options,
    source_files,
)
from tasks.extract.staging import kept_sql
from tasks.extract.tables import raw_types
from tasks.shared.config import ConfigError, PipelineConfig, SourceConfig
from tasks.shared.errors import DAMAGED_FILE_ADVICE, DataError, first_line, is_damaged_file
from tasks.shared.expressions import failed_sql
from tasks.shared.files import short_of_space
from tasks.shared.warehouse import Warehouse

__all__ = ["Problem", "preflight"]

RUN_ID = "preflight"
FIX_DATABASE = "check the server, the credentials and the table or query"
TIMEOUT_SECONDS = 5  # a database that does not answer in this time is a problem, not a wait
SAMPLED_FILES = 20  # files of one source whose rows are read; the others' headers are checked
SPACE_MARGIN = 256 * 1024**2  # free disk beyond the warehouse's own size below which check warns
CUT_SHORT = "does not end with a line break: its last row may be cut short (a file still being written, or copied in part)"
# a file loaded before and now empty: a run keeps its last read (tasks.extract.raw.emptied_files)
EMPTIED = "is empty (0 bytes) and was loaded before: a run keeps its last read, taking it for a failed export"
# a sample's warnings (a new column kept in raw) are not the preflight's to print
_QUIET = logging.getLogger("tasks.extract.preflight.sample")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def preflight(
    pipeline: PipelineConfig, sample_rows: int = 1000, full_refresh: Sequence[str] = ()
) -> list[Problem]:
    """Check a loaded config against its files and folders, on the first sample_rows rows of each file
    (full_refresh: the sources a run reads again from scratch, or 'all')."""
    problems = _outputs(pipeline)
    work_dir = Path(tempfile.mkdtemp(prefix="segments-preflight-"))
    try:
        state = loaded_files(pipeline)
    except duckdb.Error as error:  # damaged, or not a file this DuckDB reads: every run would fail opening it
        fix = DAMAGED_FILE_ADVICE if is_damaged_file(error) else None
        where = str(pipeline.warehouse_path)
        problems.append(
            Problem("warehouse", where, message=f"cannot be opened: {first_line(error)}", fix=fix)
        )
        state = None
    loaded, readers = state or (None, {})
    # the files a run keeps loaded: of a source read again from scratch, none
    again = "all" in full_refresh
    kept = (
        None if loaded is None else {n: f for n, f in loaded.items() if not again and n not in full_refresh}
    )
    for source in read_otherwise(pipeline, readers, full_refresh):  # a run stops at it (extract_source)
        problems.append(
            Problem(f"sources.{source.name}", message=_own(DataError(reread_message(source)), source))
        )
    for name, message in read_twice(pipeline):  # a run stops at them too (extract_all)
        problems.append(Problem(f"sources.{name}", message=message))
    for name in orphans(pipeline, loaded or {}):  # a run stops at it too (extract_all)
        if "all" not in full_refresh and name not in full_refresh:
            problems.append(Problem(f"sources.{name}", message=orphan_message(name, len(loaded[name]))))
    try:
        with Warehouse(":memory:", timezone=pipeline.timezone) as wh:
            create_tables(wh)
            for source in pipeline.sources:
                problems += _source(wh, pipeline, source, sample_rows, work_dir, kept)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return problems


def _source(
    wh: Warehouse,
    pipeline: PipelineConfig,
    source: SourceConfig,
    sample_rows: int,
    work_dir: Path,
    loaded: dict[str, set[str]] | None = None,
) -> list[Problem]:
    """The problems of one source: its files or database, then its mappings on a sample of rows."""
    where = f"sources.{source.name}"
    try:
        reader_options(source)
    except DataError as error:
        return [Problem(where, message=_own(error, source), fix="remove the option or use one listed")]
    files: list[str] | None = None  # None: a database (one query, its sample whole when under sample_rows)
    if source.format == "postgres":
        problems, sampled = _postgres_sample(wh, source, sample_rows)
    else:
        loaded_here = (loaded or {}).get(source.name, set())
        problems, sampled, files = _file_samples(wh, pipeline, source, sample_rows, work_dir, loaded_here)
    if not sampled:
        return problems
    failed = _bind_problems(wh, source, sampled)
    if failed:
        return problems + failed
    try:
        counts = stage_rows(wh, pipeline, source, RUN_ID)  # the stage's own function, as a run calls it
    except (DataError, duckdb.Error) as error:
        message = _own(error, source)
        fix = (
            "write a condition over the file's columns"
            if message.startswith("where =")
            else "use try_cast / try_strptime"
        )
        return [*problems, Problem(where, message=message, fix=fix)]
    whole = files is None or len(sampled) == len(files)  # every file sampled
    new_files = None
    if loaded is not None and files is not None:
        # the files a run would read: those not loaded yet; the sample decides when it read every one of them
        new_files = set(files) - loaded.get(source.name, set())
        whole = whole or new_files <= set(counts)
    problems += _quarantine_problems(wh, source, counts, sample_rows if whole else 0, new_files)
    return problems + _match_column_problems(wh, source)


def _own(error: Exception, source: SourceConfig) -> str:
    """An error's message without the `source 'x': ` its problem says already."""
    return str(error).removeprefix(f"source {source.name!r}: ")


def _file_samples(
    wh: Warehouse,
    pipeline: PipelineConfig,
    source: SourceConfig,
    sample_rows: int,
    work_dir: Path,
    loaded: set[str],
) -> tuple[list[Problem], list[str], list[str]]:
    """Read the first rows of a source's files into raw.<source>; (problems, files sampled, every file of
    the source). loaded: the files a run keeps loaded (one emptied to 0 bytes keeps its last read).

    Every file's header is checked; the rows of at most SAMPLED_FILES files are read (the first, the
    last and files evenly between), so that a source of many daily files is checked in seconds.
    """
    where = f"sources.{source.name}"
    try:
        files = source_files(pipeline, source)
    except UnreadableFiles as exc:
        return [Problem(where, message=_own(exc, source))], [], []
    except DataError:
        return [no_files(pipeline, source)], [], []
    needed = source.referenced_columns()
    step = max(1, (len(files) - 1) / max(1, SAMPLED_FILES - 1))
    chosen = {files[min(len(files) - 1, round(i * step))].name for i in range(SAMPLED_FILES)}
    problems: list[Problem] = []
    sampled: list[str] = []

    def load(file: SourceFile, select: str, params: Any) -> int:
        columns = wh.describe(select, params)
        names = [name for name, _ in columns if name not in ("_file", "_row")]
        if reason := json_rows_problem(source.format, names, params):
            problems.append(Problem(where, file.name, message=f"cannot read as jsonl: {reason}"))
            return 0
        missing = missing_columns(needed, names)
        if missing:
            problems.append(missing_columns_problem(source, file.name, missing, names))
            return 0
        if file.name not in chosen:
            return 0
        sampled.append(file.name)
        return append_raw(wh, source, select, params, RUN_ID, _QUIET, columns)

    for file in files:
        if file.size == 0 and file.name in loaded and not reads_in_place(source):
            problems.append(Problem(where, file.name, message=EMPTIED, warning=True))
            continue
        rows = sample_rows if file.name in chosen else 1
        try:
            read_file(wh, source, file, work_dir, lambda s, p, file=file: load(file, s, p), rows)
            if source.format == "xlsx" and file.name in chosen and (unread := unread_sheets(source, file)):
                said, fix = unread_said(source, unread)
                problems.append(Problem(where, file.name, message=said, fix=fix, warning=True))
            if source.format == "csv" and not ends_a_line(file.path):  # said as the run says it when loading
                problems.append(Problem(where, file.name, message=CUT_SHORT, warning=True))
        except (DataError, duckdb.Error, OSError) as error:
            # the problem names the file: a message that starts with its path does not say it again
            message = _own(error, source).replace(str(file.path), file.name).removeprefix(f"{file.name}: ")
            fix = (
                None if isinstance(error, SheetError) else read_fix(message, source)
            )  # its message says what to set
            problems.append(Problem(where, file.name, message=message, fix=fix))
    return problems, sampled, [file.name for file in files]


def _postgres_sample(
    wh: Warehouse, source: SourceConfig, sample_rows: int
) -> tuple[list[Problem], list[str]]:
    """Read the first rows of a database source into raw.<source>; (problems, batches sampled)."""
    where = f"sources.{source.name}"
    connection = source.connection
    if connection is None or connection.dsn_env is None:
        return [], []  # a Prefect Secret block needs the Prefect server: checked when a run starts
    if not os.environ.get(connection.dsn_env):
        fix = f"export {connection.dsn_env}=postgresql://user:password@host:5432/database"
        return [Problem(where, message=f"environment variable {connection.dsn_env} is not set", fix=fix)], []
    batch = f"postgres:{source.name}@{RUN_ID}"
    try:
        names = read_postgres(wh, source, "_pg_sample", None, batch, sample_rows, TIMEOUT_SECONDS)
    except (ConnectionError, DataError, ConfigError, duckdb.Error) as error:
        message = _own(error, source)
        if "statement timeout" in message:  # a slow table or query: the run has no such limit
            return [], []
        return [
            Problem(where, message=message, fix=None if "(the watermark)" in message else FIX_DATABASE)
        ], []
    try:
        names = [name for name in names if name not in ("_file", "_row")]
        missing = missing_columns(source.referenced_columns(), names)
        if missing:
            return [missing_columns_problem(source, source.table or "query", missing, names)], []
        append_raw(wh, source, "select * from _pg_sample", {}, RUN_ID, _QUIET)
    finally:
        wh.execute("drop table if exists _pg_sample")
    return [], [batch]


def _bind_problems(wh: Warehouse, source: SourceConfig, sampled: list[str]) -> list[Problem]:
    """One problem per mapping that does not bind against the sampled columns."""
    types = raw_types(wh, source)
    problems = []
    for field, expression in source.columns.items():
        error = bind_error(wh, source, field, types)
        if error is not None:
            problems.append(
                Problem(
                    f"sources.{source.name}",
                    sampled[0] if len(sampled) == 1 else None,
                    field=field,
                    message=f"{expression}: {error}",
                    fix=mapping_hint(error),
                )
            )
    return problems


FIELD_REASON = re.compile(r"^field ([a-z_]+): (.*)$", re.S)


def _match_column_problems(wh: Warehouse, source: SourceConfig) -> list[Problem]:
    """A match column whose expression fails on more sampled rows than max_bad_row_share (rows with a value
    to read): the run would not fail, but the matcher would compare those records as missing."""
    if not source.match_columns:
        return []
    kept = kept_sql(source, raw_types(wh, source))
    rows = wh.scalar(f"select count(*) from raw.{source.name} where {kept}")
    problems = []
    for name, expression in source.match_columns.items():
        failing = wh.rows(
            wh.model_sql(
                "staging/match_column_failures",
                identifiers={"raw_table": f"raw.{source.name}"},
                fragments={"failed": failed_sql(expression), "kept": kept},
            )
        )
        if rows and len(failing) / rows > source.max_bad_row_share:
            file, row = failing[0]
            message = (
                f"{expression}: cannot be computed on {len(failing)} of {rows} sampled rows "
                f"({len(failing) / rows:.0%}); the matcher would compare them as missing"
            )
            fix = "read the column's own layout, e.g. try_strptime(col, ['%Y/%m/%d', '%d.%m.%Y']) or try_cast"
            problems.append(
                Problem(f"sources.{source.name}", file, row, f"match_columns.{name}", message, fix)
            )
    return problems


def _quarantine_problems(
    wh: Warehouse,
    source: SourceConfig,
    counts: dict[str, tuple[int, int, int, int, int]],
    sample_rows: int,
    new_files: set[str] | None = None,
) -> list[Problem]:
    """Problems of the sample's quarantined rows: a check failing on every row of a file, or too many bad rows.

    The share of bad rows decides a run over the rows it reads: the files not loaded yet (new_files; None:
    unknown, every file). It is a problem here when the sample holds every one of those rows (each file
    shorter than the sample; sample_rows 0 when one of them was not sampled), so that a run would certainly
    fail on it.
    """
    where = f"sources.{source.name}"
    rows = wh.rows(
        "select file, row_number, reason from audit.quarantine where source = ? order by file, row_number",
        [source.name],
    )
    problems = []
    for file, (staged, quarantined, dropped, _, filtered) in sorted(counts.items()):
        total = staged + quarantined + dropped
        if filtered and not total:
            fix = "check the condition against the file's values (a filtered row is not staged, and not an error)"
            said = f"where = {source.where!r} leaves out every sampled row ({filtered} of {filtered})"
            problems.append(Problem(where, file, message=said, fix=fix, warning=True))
        failing: dict[str | None, list[tuple[int, str]]] = {}
        for _, row, reason in (r for r in rows if r[0] == file):
            for part in reason.split("; "):
                match = FIELD_REASON.match(part)
                key = match.group(1) if match else ("" if part.startswith("no customer reference") else None)
                if part.startswith("where: "):  # the source's where fails on the row (tasks.extract.staging)
                    key = "where"
                if key is not None:
                    failing.setdefault(key, []).append((row, match.group(2) if match else part))
        for field, failures in failing.items():
            if total and len(failures) == total:
                row, message = failures[0]
                text = f"every sampled row fails ({total} of {total}), here: {message}"
                field_name = field if field != "where" else None  # a where's reason names itself
                problems.append(Problem(where, file, row, field_name or None, text, reason_fix(message)))
    scope = {f: c for f, c in counts.items() if new_files is None or f in new_files}
    read = sum(sum(c[:3]) for c in scope.values())
    bad = sum(c[1] for c in scope.values())
    whole = all(sum(c[:3]) + c[4] < sample_rows for c in scope.values())  # sample_rows 0: never whole
    if (
        all(problem.warning for problem in problems)
        and whole
        and read
        and bad / read > source.max_bad_row_share
    ):
        file, row, reason = next(r for r in rows if r[0] in scope)
        match = FIELD_REASON.match(reason)
        field, what = (match.group(1), match.group(2)) if match else (None, reason)
        message = (
            f"{bad} of {read} rows ({bad / read:.0%}) would be quarantined, more than "
            f"max_bad_row_share {source.max_bad_row_share:.0%}: the run would fail; the first here: {what}"
        )
        fix = reason_fix(what.split("; ")[0]) or "correct the rows, or raise max_bad_row_share"
        problems.append(Problem(where, file, row, field, message, fix))
    return problems


def _short_of_space(path: Path, existing: Path) -> Problem | None:
    """A warning when the warehouse's disk is short of space (tasks.shared.files.short_of_space)."""
    message = short_of_space(path, existing, SPACE_MARGIN)
    fix = "free space there or move the warehouse"
    return (
        None if message is None else Problem("warehouse", str(path), message=message, fix=fix, warning=True)
    )


def _outputs(pipeline: PipelineConfig) -> list[Problem]:
    """Problems with where a run writes (warehouse, exports) and the suppression list it reads."""
    problems = []
    if pipeline.lake is not None:
        from tasks.shared.lake import unavailable

        if reason := unavailable():
            problems.append(
                Problem("warehouse", "ducklake", message=reason, fix="run envs/lake/.venv/bin/segments")
            )
    for where, path in (("warehouse", pipeline.warehouse_path), ("exports", pipeline.exports_path)):
        folder = where == "exports" or pipeline.lake is not None  # a lake's warehouse path is its data folder
        if not folder and path.is_dir():
            problems.append(
                Problem(where, str(path), message="is a folder", fix="name a file, e.g. warehouse.duckdb")
            )
            continue
        if not folder and path.is_file() and not os.access(path, os.R_OK | os.W_OK):  # read-only, immutable
            message = "cannot be written: the file is read-only"
            problems.append(Problem(where, str(path), message=message, fix=f"make {path} writable"))
            continue
        existing = path if folder else path.parent
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
            message = f"cannot be written: {existing} is not a writable folder"
            problems.append(
                Problem(where, str(path), message=message, fix=f"make {existing} writable or change {where}:")
            )
        elif where == "warehouse" and not folder and (short := _short_of_space(path, existing)):
            problems.append(short)
    suppression = pipeline.privacy.suppression_file
    if suppression is not None:
        path = pipeline.resolve(suppression)
        try:
            path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            fix = "create it (one email, phone or customer id per line) or remove privacy.suppression_file"
            problems.append(Problem("privacy.suppression_file", str(path), message="file not found", fix=fix))
        except (OSError, UnicodeDecodeError) as error:
            message = f"cannot be read as UTF-8 text: {error}"
            problems.append(
                Problem("privacy.suppression_file", str(path), message=message, fix="save it as UTF-8")
            )
    return problems

"""Erased people stay erased: after a load, rows of people erased earlier are dropped again.

A full reload reads the source files again, and they still hold an erased person's rows. Erase
(tasks/erase) keeps only SHA-256 hashes of their record keys and of the contact keys only they
carried in audit.erased_identifiers. A row is an erased person's when it points at an erased record
(its source_id, or its customer_ref in the customers source it refers to) or carries an erased contact
key (email, phone or device id as written). The rule is applied to every staged row
(sql/staging/erased_rows.sql) and to raw rows that staging did not keep, with the identifier fields
staging's own mapping gives them (sql/ops/erase/raw_row_keys.sql): quarantined rows and those the source's
`where` leaves out after a load, every raw row when a person is erased. Copies of such a row (audit.duplicates) go with it.
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb

from tasks.extract.kept_files import define_view, hide_erased_rows, keeps_files
from tasks.extract.mapping_checks import check_mappings
from tasks.extract.staging import HOISTING_OPTIMIZER, kept_sql, mapping_sql, text_sql, value_types
from tasks.extract.tables import unattributed_table
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS, FACT_KINDS, IDENTIFIER_FIELDS
from tasks.shared.expressions import is_volatile
from tasks.shared.lineage import delete_lineage_rows, erasable_tables, lineage_columns
from tasks.shared.warehouse import Warehouse

# What a load can do with a row it read: filtered, a row the source's where left out (in raw only).
OUTCOMES = ("staged", "unattributed", "quarantined", "duplicates", "filtered")
# Where a load puts a row it read, by the table holding it: a row staged apart as unattributed is staged too.
ERASED_OUTCOMES: dict[str, tuple[str, ...]] = {
    "audit.quarantine": ("quarantined",),
    "audit.duplicates": ("duplicates",),
    **{f"staging.{kind}": ("staged",) for kind in CANONICAL_FIELDS},
    **{unattributed_table(kind): ("staged", "unattributed") for kind in FACT_KINDS},
}


def record_source(source: SourceConfig) -> str:
    """The customers source a row's record id belongs to: the source itself, or the one its customer_ref points into."""
    if source.kind == "customers":
        return source.name
    return source.customer_source or source.name


def record_id_field(source: SourceConfig) -> str:
    """The canonical field naming a row's customer record: source_id of a customer record, customer_ref of a fact."""
    return "source_id" if source.kind == "customers" else "customer_ref"


def key_fragments(source: SourceConfig, types: dict[str, str]) -> dict[str, str]:
    """The mapped and typed fragments of sql/ops/erase/raw_row_keys.sql for a source.

    Each identifier field is its mapping (as staging evaluates it, tasks.extract.staging.mapping_sql)
    under try, then text as staging types a varchar field: the value a staged row would have.
    """
    expressions = mapping_sql(source, types)
    outputs = {"record_id": record_id_field(source), **{field: field for field in IDENTIFIER_FIELDS}}
    mapped, typed = [], []
    for output, field in outputs.items():
        if field not in expressions:
            typed.append(f'null::varchar as "{output}"')
            continue
        expression = f"({expressions[field]}\n)"
        mapped.append(
            f'{expression if is_volatile(expressions[field]) else f"try({expression})"} as "m_{field}"'
        )
        typed.append(f'{text_sql(f"mapped.m_{field}", types.get(f"m_{field}"))} as "{output}"')
    return {
        "mapped": ",\n        ".join(mapped) or "null as _none",
        "typed": ",\n        ".join(typed),
        "left_out": "false" if source.where is None else f"not {kept_sql(source, types)}",
    }


@contextmanager
def hoisting_off(wh: Warehouse) -> Iterator[None]:
    """DuckDB's common-subexpression optimizer off, as while staging evaluates mappings (see tasks.extract.staging)."""
    before = wh.scalar("select current_setting('disabled_optimizers')") or ""
    disabled = ",".join(dict.fromkeys([*filter(None, before.split(",")), HOISTING_OPTIMIZER]))
    wh.execute(f"set disabled_optimizers = {_literal(disabled)}")
    try:
        yield
    finally:
        with suppress(duckdb.Error):  # after a failed statement the transaction only accepts a rollback
            wh.execute(f"set disabled_optimizers = {_literal(before)}")


def _literal(text: str) -> str:
    """text as a SQL string literal (optimizer names, read from the setting itself)."""
    return "'" + text.replace("'", "''") + "'"


def collect_raw_keys(wh: Warehouse, config: PipelineConfig, *, quarantined_only: bool) -> int:
    """Fill _erase_raw_keys with the identifier fields of the configured sources' raw rows; return how many.

    quarantined_only: only the raw rows audit.quarantine holds and those the source's `where` leaves out
    (after a load, the other rows are staged or copies of staged rows); else every raw row (an erasure: older
    versions of a record are raw only).
    """
    wh.run("ops/erase/raw_keys")
    if not wh.table_exists("audit.quarantine"):
        return 0  # no source was ever loaded
    total = 0
    for source in config.sources:
        if keeps_files(wh, source):
            define_view(wh, source)  # over the files still there (an erasure may come long after a run)
        if not wh.table_exists(f"raw.{source.name}"):
            continue
        check_mappings(wh, source)
        params = {
            "source": source.name,
            "record_source": record_source(source),
            "quarantined_only": quarantined_only,
        }
        with hoisting_off(wh):
            total += wh.insert(
                "_erase_raw_keys",
                "ops/erase/raw_row_keys",
                params,
                identifiers={"source": source.name},
                fragments=key_fragments(source, value_types(wh, source)),
            )
    return total


def collect_erased_lineage(wh: Warehouse, config: PipelineConfig, *, quarantined_only: bool) -> int:
    """Add to _erase_lineage the staged, raw and copied rows of erased people; return the rows added."""
    added = 0
    if wh.table_exists("staging.customers"):
        staged = "staging/erased_rows"
        params = {"source": None, "record_source": None}
        ids = {"kind": "customers", "record_id": "source_id"}
        added += wh.insert("_erase_lineage", staged, params, identifiers=ids)
        for source in config.sources:
            if source.kind == "customers" or not wh.table_exists(f"staging.{source.kind}"):
                continue
            params = {"source": source.name, "record_source": record_source(source)}
            ids = {"kind": source.kind, "record_id": "customer_ref"}
            added += wh.insert("_erase_lineage", staged, params, identifiers=ids)
    if collect_raw_keys(wh, config, quarantined_only=quarantined_only):
        added += wh.insert("_erase_lineage", "ops/erase/erased_raw_rows")
    if wh.table_exists("audit.duplicates"):
        added += wh.insert("_erase_lineage", "ops/erase/duplicate_lineage")
    return added


def drop_erased(wh: Warehouse, config: PipelineConfig) -> dict[tuple[str, str], dict[str, int]]:
    """After a load: drop the raw, staged, quarantined and copied rows of erased people again.

    Returns what was dropped per (source, file) by where the load had put each row (ERASED_OUTCOMES: staged,
    unattributed among them, quarantined, duplicates, filtered), for the load's counts. Every such row was read by this
    load: each load, and the erasure itself, leaves none behind.
    """
    if not wh.table_exists("audit.erased_identifiers") or not wh.count("audit.erased_identifiers"):
        return {}  # nobody erased: nothing to scan
    wh.run("ops/erase_lineage")
    if not collect_erased_lineage(wh, config, quarantined_only=True):
        return {}
    erased: dict[tuple[str, str], dict[str, int]] = {}
    columns = {table: wh.columns(table) for table in erasable_tables(wh)}
    for table, outcomes in ERASED_OUTCOMES.items():
        lineage = lineage_columns(columns.get(table, ()))
        if lineage is None:  # not in this warehouse
            continue
        identifiers = {"target": table, **dict(zip(("source", "file", "row"), lineage, strict=True))}
        for source, file, rows in wh.rows(wh.model_sql("ops/erase/lineage_counts", identifiers)):
            counts = erased.setdefault((source, file), dict.fromkeys(OUTCOMES, 0))
            for outcome in outcomes:
                counts[outcome] += rows
    for source in config.sources:  # rows the where left out are in raw only
        if source.where is None or not wh.table_exists(f"raw.{source.name}"):
            continue
        fragments = {"kept": kept_sql(source, value_types(wh, source))}
        sql = wh.model_sql("ops/erase/left_out_counts", {"raw": f"raw.{source.name}"}, fragments)
        for name, file, rows in wh.rows(sql):
            erased.setdefault((name, file), dict.fromkeys(OUTCOMES, 0))["filtered"] += rows
    removed: dict[str, int] = {}
    for table, names in columns.items():
        delete_lineage_rows(wh, table, names, removed)
    hide_erased_rows(wh, removed)
    return erased

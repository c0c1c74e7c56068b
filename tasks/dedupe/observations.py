"""The observations of facts: core.fact_observations, kept up to date with the staged facts file by file.

core.record_observations (which keys each record was seen with, and since when, as of the cutoff) groups
the customer records' rows and every staged transaction, event and feedback row. The fact rows are most of
it (tens of millions at 1M customers) and only a day's files are new each run, so their groups are kept
whatever their time: core.fact_observations holds, per record and keys, the earliest timestamp of all its
rows (null when one has none). Read through a cutoff (first_seen null or before it) that is exactly the
grouping of the rows before the cutoff, for any cutoff: a backfill reads it as the newest day does.

Incremental: core.fact_observation_files stores, per staged file, its row count and the load that staged
it (audit.load_state) as of the last run: the watermark. A run folds in the files staged since (new ones):
their groups merged with the held ones. When a folded file changed (re-read, re-staged, rows replaced or
erased: which rows went is unknown), the table lost or gained rows behind the run's back (an erasure), or
what maps a fact to its record and keys changed (the core fact views, the lookups' config, this code), it
is rebuilt from every staged fact instead, as on `rebuild`.
"""

import hashlib
import json

import polars as pl

from tasks.dedupe.lookups import record_mapping
from tasks.shared.config import PipelineConfig
from tasks.shared.contracts import FACT_KINDS
from tasks.shared.warehouse import Warehouse

# Bump when what core.fact_observations holds changes: an older table is rebuilt.
OBSERVATIONS_VERSION = 1
# The tables kept from run to run (an erasure deletes the person's rows of core.fact_observations).
STATE_TABLES = ("core.fact_observations", "core.fact_observation_files", "core.fact_observation_state")
# The watermark and the files as staged now, compared by sql/ops/file_changes.sql.
FILES = {"held": "core.fact_observation_files", "current": "_fact_observation_files_now"}
# _folded_records when no file was folded in (sql/core/folded_records.sql)
FOLDED_SCHEMA = {"record_source": pl.String, "record_id": pl.String}
TEMP_TABLES = (
    "_fact_observation_files_now",
    "_fact_observations_delta",
    "_fact_observations_merged",
)


def settings_fingerprint(wh: Warehouse, config: PipelineConfig) -> str:
    """A fingerprint of record_mapping (tasks.dedupe.lookups), the core fact views' text and OBSERVATIONS_VERSION."""
    views = wh.rows(
        "select view_name, sql from duckdb_views() where schema_name = 'core' and view_name in "
        "(select unnest(?)) order by view_name",
        [list(FACT_KINDS)],
    )
    payload = json.dumps(
        [OBSERVATIONS_VERSION, record_mapping(config), views], ensure_ascii=False, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def rebuild_reason(wh: Warehouse, settings: str, rebuild: bool) -> str:
    """Why core.fact_observations must be rebuilt from every staged fact (empty: new files can be folded in)."""
    if rebuild:
        return "a rebuild was requested"
    for table in STATE_TABLES:
        if not wh.table_exists(table):
            return f"no {table} yet"
    state = wh.dicts("select version, settings, rows from core.fact_observation_state")
    if len(state) != 1:
        return "core.fact_observation_state does not hold one row"
    if state[0]["version"] != OBSERVATIONS_VERSION:
        return f"written by version {state[0]['version']}, this is {OBSERVATIONS_VERSION}"
    if state[0]["settings"] != settings:
        return "what maps a fact to its record changed (the core fact views or the lookups' config)"
    if state[0]["rows"] != wh.count("core.fact_observations"):
        return "core.fact_observations lost rows since the last run (an erasure)"
    wh.build("_fact_observation_file_changes", "ops/file_changes", temp=True, identifiers=FILES)
    changed = wh.scalar("select count(*) from _fact_observation_file_changes where change = 'changed'")
    if changed:
        return f"{changed} folded files were re-read, re-staged, or had rows replaced or erased"
    return ""


def refresh_fact_observations(wh: Warehouse, config: PipelineConfig, rebuild: bool = False) -> str:
    """Bring core.fact_observations up to date with the staged facts (the core fact views must exist);
    return why it was rebuilt (empty when the new files were folded in). Leaves the temp tables
    _folded_records: the records whose groups were folded in (tasks/dedupe/records.py drops it), and
    _fact_observation_file_changes: the files new (every file after a rebuild) or changed (dedupe_all reads
    the new ones' references, then drops it).

    A rebuild starts from empty tables: every staged file is new then, and is folded in.
    """
    settings = settings_fingerprint(wh, config)
    with wh.transaction():
        wh.build("_fact_observation_files_now", "core/fact_observation_files_now", temp=True)
        reason = rebuild_reason(wh, settings, rebuild)
        if reason:
            for table in STATE_TABLES:
                wh.execute(f"drop table if exists {table}")
            wh.ensure("core/fact_observations")
            wh.ensure("core/fact_observation_files")
            wh.build("_fact_observation_file_changes", "ops/file_changes", temp=True, identifiers=FILES)
        if wh.scalar("select count(*) from _fact_observation_file_changes where change = 'new'"):
            fold(wh, rebuilt=bool(reason))
        else:
            wh.write_frame("_folded_records", pl.DataFrame(schema=FOLDED_SCHEMA), temp=True)
        wh.build(FILES["held"], "ops/file_watermark", identifiers=FILES)
        rows = wh.count("core.fact_observations")
        state = {"version": OBSERVATIONS_VERSION, "settings": settings, "rows": rows}
        wh.build("core.fact_observation_state", "core/fact_observation_state", state)
        for table in TEMP_TABLES:
            wh.execute(f"drop table if exists {table}")
    return reason


def fold(wh: Warehouse, rebuilt: bool = False) -> None:
    """Fold the staged facts of the new files (_fact_observation_file_changes) into core.fact_observations
    (rebuilt: every staged file is new, so none is filtered out first)."""
    files = None
    if not rebuilt:
        files = [
            file
            for (file,) in wh.rows(
                "select distinct file from _fact_observation_file_changes where change = 'new'"
            )
        ]
    wh.build("_fact_observations_delta", "core/fact_observations_delta", {"files": files}, temp=True)
    wh.build("_fact_observations_merged", "core/fact_observations_merged", temp=True)
    wh.build("_folded_records", "core/folded_records", temp=True)
    wh.run("core/fact_observations_forget")
    # no insert of no rows: in a DuckDB 2.0 transaction it can hide rows a later insert appends
    if wh.count("_fact_observations_merged"):
        wh.insert("core.fact_observations", "core/fact_observations_fold")

"""The matcher run by run: refit when due, otherwise score with the stored model, incrementally where the state serves.

With a fitted model (tasks.dedupe.model) a pair's candidacy and score depend on its two records and on the
sizes of the blocks they share, nothing else. So the run keeps a state (core.match_state*): each record's
prepared fields with a hash of the fields the matcher reads, its blocking keys under the model's rules, and
the links (pairs scored at or above the threshold, before the one-to-one constraint). The next run with the
same model compares the records' hashes with the state's:

- records new or changed since the state (dirty) are prepared and keyed, and paired through every block
  they are in, against all current records;
- a pair of two unchanged records keeps its stored link while some block it shares is still within
  max_block_size (a block that grew past the limit drops the pairs only it proposed); a block that shrank
  back within the limit (records removed or changed) proposes its pairs of unchanged records again;
- links touching removed or changed records are dropped.

The state counts each block's records (core.match_state_blocks, kept up to date with the keys), so a run reads
the sizes of the blocks its changes reach instead of counting their members, and checks again only the kept
links whose records share a block that entered or left the range of 2 to max_block_size records.

That is the link set of a full run with the model (tests/unit/dedupe/test_incremental.py checks it day
after day). A state the run cannot trust (another model, records read with other columns, older code,
most records changed) is not patched: the run generates every candidate pair with the model and rewrites
the state.
"""

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from tasks.dedupe.blocking import blocking_keys, fill_blocking_keys
from tasks.dedupe.model import (
    MatchModel,
    load_model,
    refit_reason,
    store_model,
    stored_model_info,
)
from tasks.dedupe.preparation import prepare_records, unreadable_flags
from tasks.dedupe.scoring import (
    MatchOutcome,
    MatchSettings,
    PairScorer,
    match_records,
    score_with_model,
    unused_comparisons,
)
from tasks.dedupe.state_blocks import (
    BLOCK,
    block_sizes,
    count_blocks,
    kept_links_proposed,
    state_frame,
    store_block_sizes,
)
from tasks.shared.warehouse import Warehouse

# Bump when what the state holds changes: an older state is rebuilt by a full run. 3: street words abbreviated in
# the prepared address; 4: a full name "Family, Given" read in that order, ø, ł, æ, ß … spelt o, l, ae, ss.
STATE_VERSION = 4
MAX_CHANGED_SHARE = 0.5  # more records new, changed or removed than this share: a full run is cheaper
RECORD_KEY = ["record_source", "record_id"]
HASHES = ["h1", "h2"]
UNREADABLE = "unreadable__"  # prefix of the state's per-comparison unreadable flags
STATE_TABLES = (
    "core.match_state",
    "core.match_state_records",
    "core.match_state_keys",
    "core.match_state_blocks",
    "core.match_state_links",
)


@dataclass(frozen=True)
class MatcherRun:
    """What the matcher did this run: its outcome (nodes are rows of the records) and how it got there."""

    outcome: MatchOutcome
    mode: str  # refit | full (every candidate pair, stored model) | incremental
    refit_reason: str | None = None  # why the model was fitted this run
    fallback: str | None = None  # why a run with the stored model generated every candidate pair
    changed_records: int = 0  # incremental: records new or changed since the state
    removed_records: int = 0  # incremental: records of the state no longer there (or changed)

    def summary(self) -> dict[str, object]:
        """The run summary's matcher fields (tasks.dedupe.DedupeResult)."""
        model = self.outcome.model
        return {
            "matcher_mode": self.mode,
            "refitted": self.mode == "refit",
            "refit_reason": self.refit_reason,
            "state_fallback": self.fallback,
            "changed_records": self.changed_records,
            "removed_records": self.removed_records,
            "model_fitted_as_of": None if model is None else model.fitted_as_of,
        }


def record_hashes(records: pl.DataFrame) -> pl.DataFrame:
    """record_source, record_id and two 64-bit hashes of the fields the matcher reads (all other columns)."""
    values = records.drop(RECORD_KEY)
    return records.select(RECORD_KEY).with_columns(
        h1=values.hash_rows(seed=0),
        h2=values.hash_rows(seed=0x9E3779B97F4A7C15),
    )


def record_signature(records: pl.DataFrame) -> str:
    """The columns of the records and their types, and the polars version (whose row hashes are stable only
    within a version): hashes are comparable only between equal signatures."""
    columns = [(name, str(dtype)) for name, dtype in records.schema.items()]
    return json.dumps([STATE_VERSION, pl.__version__, columns])


def run_matcher(
    wh: Warehouse,
    records: pl.DataFrame,
    settings: MatchSettings,
    as_of: date,
    every_days: int,
    drift: float,
    refit: bool = False,
    rebuild: bool = False,
    scorer: PairScorer | None = None,
) -> MatcherRun:
    """Link the records (read_match_records: record_source, record_id and the matcher's fields, in record
    order): fit the model when refit_reason says so, otherwise score with the stored one, incrementally when
    the state serves; store the model and the state for the next run. rebuild: score every candidate pair
    with the stored model and write the state again (a full refresh), as if the state could not serve.
    scorer: scores the candidate pairs when every one is compared (a fit, a full run; match_records)."""
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    groups = numbered["record_source"].cast(pl.Categorical).to_physical().to_numpy()
    inputs = numbered.drop(RECORD_KEY)
    wanted = settings.digest()
    stored = stored_model_info(wh)
    reason = refit_reason(stored, wanted, as_of, records.height, every_days, drift, refit)
    if reason is None and state_lost_rows(wh):
        # an erasure deleted the person's rows from the state: the model may hold their values (term
        # frequencies), and the state no longer knows the blocks they were in
        reason = "matcher state lost rows since the last run (an erasure)"
    if reason is not None:
        with wh.scratch() as (_, folder):  # the blocking keys, made once for the pairs and the state
            keys = folder / "blocking_keys.parquet"
            outcome = match_records(
                inputs, settings=settings, wh=wh, groups=groups, keys_to=keys, scorer=scorer
            )
            if stored is not None and stored.fitted_as_of > as_of:
                # a backfill before the stored model's fit day: this fit serves this day only; the later days
                # keep their model and state (a backfill never changes what later days are scored with)
                model = (
                    None
                    if outcome.model is None
                    else replace(outcome.model, settings_hash=wanted, fitted_as_of=as_of)
                )
                return MatcherRun(replace(outcome, model=model), "refit", reason)
            if outcome.model is None:  # too few records or no candidate pair: nothing to keep
                forget_matcher(wh)
                return MatcherRun(outcome, "refit", reason)
            model = replace(outcome.model, settings_hash=wanted, fitted_as_of=as_of)
            store_model(wh, model)
            outcome = replace(outcome, model=model)
            write_state(wh, records, outcome, settings, as_of, keys)
            return MatcherRun(outcome, "refit", reason)
    model = load_model(wh, settings.comparisons)
    fallback = "a full refresh rebuilds the matcher state" if rebuild else state_problem(wh, model, records)
    if fallback is None:
        run = incremental_run(wh, records, model, settings)
        if isinstance(run, MatcherRun):
            update_state_meta(wh, model, records, as_of)
            return run
        fallback = run
    with wh.scratch() as (_, folder):
        keys = folder / "blocking_keys.parquet"
        outcome = match_records(
            inputs, settings=settings, wh=wh, groups=groups, model=model, keys_to=keys, scorer=scorer
        )
        write_state(wh, records, outcome, settings, as_of, keys)
    return MatcherRun(outcome, "full", fallback=fallback)


def forget_matcher(wh: Warehouse) -> None:
    """Drop the stored model and state (the next run fits again)."""
    for table in ("core.match_model", "core.match_model_values", *STATE_TABLES):
        wh.execute(f"drop table if exists {table}")


def state_lost_rows(wh: Warehouse) -> bool:
    """Whether rows of the matcher state were deleted since a run wrote it (core.match_state's records)."""
    if not all(wh.table_exists(table) for table in STATE_TABLES):
        return False
    rows = wh.rows(wh.model_sql("core/match_state_counts"))
    return bool(rows) and rows[0][0] != rows[0][1]


def state_problem(wh: Warehouse, model: MatchModel, records: pl.DataFrame) -> str | None:
    """Why the stored state cannot serve an incremental run with this model (None: it can)."""
    if not all(wh.table_exists(table) for table in STATE_TABLES):
        return "no matcher state stored"
    rows = wh.rows(wh.model_sql("core/match_state_info"))
    if len(rows) != 1:
        return "no matcher state stored"
    model_id, signature, version = rows[0]
    if version != STATE_VERSION:
        return f"matcher state written by older code (version {version})"
    if model_id != model.model_id:
        return "matcher state of another model"
    if signature != record_signature(records):
        return "matcher state of records read with other columns"
    return None


def incremental_candidates(
    keys: pl.DataFrame, gone: pl.DataFrame, max_block_size: int, link_type: str
) -> pl.DataFrame:
    """The candidate pairs (left < right) a run must score beside the links it keeps: every pair within a
    block of 2 to max_block_size records that has a dirty record, or that was larger than max_block_size
    before (records of it removed or changed) and so proposed none of its pairs then.

    keys: the current records' keys (rule, key, node, grp: the record's source, dirty: new or changed since
    the state); gone: the state's keys (rule, key) of records removed or changed since, one row per record.
    """
    affected = pl.concat([keys.filter("dirty").select("rule", "key"), gone.select("rule", "key")]).unique()
    members = keys.join(affected, on=["rule", "key"], how="semi")
    removed = gone.group_by("rule", "key").agg(removed=pl.len())
    sizes = (
        members.group_by("rule", "key")
        .agg(size=pl.len(), unchanged=(~pl.col("dirty")).sum())
        .join(removed, on=["rule", "key"], how="left")
        .with_columns(before=pl.col("unchanged") + pl.col("removed").fill_null(0))
        .filter(pl.col("size").is_between(2, max_block_size))
        .select("rule", "key", reopened=pl.col("before") > max_block_size)
    )
    usable = members.join(sizes, on=["rule", "key"]).select("rule", "key", "node", "grp", "dirty", "reopened")
    pairs = usable.join(usable.select("rule", "key", "node", "grp", "dirty"), on=["rule", "key"], suffix="_b")
    pairs = pairs.filter(
        (pl.col("node") < pl.col("node_b")) & (pl.col("dirty") | pl.col("dirty_b") | pl.col("reopened"))
    )
    if link_type == "link_only":
        pairs = pairs.filter(pl.col("grp") != pl.col("grp_b"))
    elif link_type == "dedupe_only":
        pairs = pairs.filter(pl.col("grp") == pl.col("grp_b"))
    return pairs.select(left="node", right="node_b").unique().sort("left", "right")


def _unreadable(wh: Warehouse, flags_dirty: pl.DataFrame) -> dict[str, int]:
    """Per comparison, the records whose value could not be read: unchanged stored ones and dirty ones."""
    if not any(c.startswith(UNREADABLE) for c in wh.columns("core.match_state_records")):
        return {}
    stored = wh.frame(wh.model_sql("core/match_state_unreadable")).rename(
        lambda c: c.removeprefix(UNREADABLE)
    )
    dirty = {c: int(flags_dirty[c].sum()) for c in flags_dirty.columns}
    counts = {name: int(count or 0) + dirty.get(name, 0) for name, count in stored.row(0, named=True).items()}
    return {name: count for name, count in counts.items() if count}


def _unused(wh: Warehouse, prepared_dirty: pl.DataFrame, comparisons: tuple) -> list[str]:
    """unused_comparisons over every current record: none of the dirty ones nor of the unchanged stored ones."""
    names = {c.name: c.column for c in comparisons}
    return [
        name
        for name in unused_comparisons(prepared_dirty, comparisons)
        if not wh.scalar(wh.model_sql("core/match_state_values", identifiers={"column": names[name]}))
    ]


def incremental_run(
    wh: Warehouse, records: pl.DataFrame, model: MatchModel, settings: MatchSettings
) -> MatcherRun | str:
    """The links of a full run with the model, from the stored state and the records new or changed since
    (see the module); the state is brought up to date. A string: why the state cannot serve (untouched).

    What is read of the state is narrow or local: every record's hashes, then the keys, prepared fields and
    block sizes (counts, core.match_state_blocks) of the records and blocks the changes touch, and the stored
    links.
    """
    comparisons = settings.comparisons
    current = record_hashes(records).with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    stored = wh.frame(wh.model_sql("core/match_state_hashes"))
    dirty = current.join(stored, on=[*RECORD_KEY, *HASHES], how="anti").sort("node")
    gone = stored.join(current, on=[*RECORD_KEY, *HASHES], how="anti").select(RECORD_KEY)
    del stored
    if dirty.height + gone.height > MAX_CHANGED_SHARE * max(records.height, 1):
        return f"{dirty.height} records new or changed and {gone.height} gone: a full run is cheaper"
    ids = current.select("node", *RECORD_KEY)
    wh.write_frame("_match_state_gone", gone, temp=True)
    inputs = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64)).drop(RECORD_KEY)
    dirty_inputs = inputs.join(dirty.select("node"), on="node", how="semi", maintain_order="left")
    del inputs
    prepared_dirty = prepare_records(dirty_inputs, comparisons, model.decimals)
    flags_dirty = unreadable_flags(dirty_inputs, prepared_dirty, comparisons)

    keys_dirty = blocking_keys(prepared_dirty, model.rules, wh, comparisons)
    dirty_keys = keys_dirty.join(ids, on="node")
    keys_gone = state_frame(wh, "core/match_state_keys_of", "_match_state_wanted", gone).select("rule", "key")
    affected = pl.concat([dirty_keys.select("rule", "key"), keys_gone]).unique()
    affected_sizes = block_sizes(wh, affected, dirty_keys, keys_gone)
    within = affected_sizes.filter(pl.col("size").is_between(2, settings.max_block_size))
    members = state_frame(
        wh, "core/match_state_block_members", "_match_state_blocks", within.select("rule", "key")
    )
    keys = pl.concat(
        [
            members.join(ids, on=RECORD_KEY).select("rule", "key", "node", dirty=pl.lit(False)),
            dirty_keys.join(within, on=["rule", "key"], how="semi").select(
                "rule", "key", "node", dirty=pl.lit(True)
            ),
        ]
    ).join(current.select("node", grp="record_source"), on="node")
    pairs = incremental_candidates(keys, keys_gone, settings.max_block_size, settings.link_type)

    stored_links = wh.frame(wh.model_sql("core/match_state_links_read"))
    links_kept = (
        stored_links.join(gone, left_on=["source_a", "id_a"], right_on=RECORD_KEY, how="anti")
        .join(gone, left_on=["source_b", "id_b"], right_on=RECORD_KEY, how="anti")
        .join(
            ids.rename({"record_source": "source_a", "record_id": "id_a", "node": "left"}),
            on=["source_a", "id_a"],
        )
        .join(
            ids.rename({"record_source": "source_b", "record_id": "id_b", "node": "right"}),
            on=["source_b", "id_b"],
        )
    )
    if links_kept.filter(pl.col("left") >= pl.col("right")).height:
        return "stored links in another record order"
    in_range = [pl.col(c).is_between(2, settings.max_block_size) for c in ("before", "size")]
    flipped = affected_sizes.filter(in_range[0] != in_range[1]).select(BLOCK)
    links_kept = kept_links_proposed(
        wh, links_kept, ids, flipped, dirty_keys, keys_gone, settings.max_block_size
    )
    pairs = pairs.join(links_kept.select("left", "right"), on=["left", "right"], how="anti")

    # the prepared fields of the records to score: the dirty ones, and the unchanged ones from the state
    nodes = pl.concat([pairs["left"], pairs["right"]]).unique()
    wanted = ids.join(dirty.select("node"), on="node", how="anti").filter(
        pl.col("node").is_in(nodes.implode())
    )
    prepared_kept = state_frame(
        wh, "core/match_state_prepared", "_match_state_wanted", wanted.select(RECORD_KEY)
    )
    prepared_columns = [c for c in prepared_dirty.columns if c != "node"]
    prepared = pl.concat(
        [
            prepared_kept.join(ids, on=RECORD_KEY)
            .select("node", *prepared_columns)
            .cast(
                dict(zip(prepared_columns, [prepared_dirty[c].dtype for c in prepared_columns], strict=True))
            ),
            prepared_dirty,
        ]
    ).sort("node")
    scored = score_with_model(prepared, pairs, model, settings)
    columns = scored.columns
    links = pl.concat([links_kept.select(columns).cast(scored.schema), scored]).sort("left", "right")  # type: ignore[arg-type]
    outcome = MatchOutcome(
        links,
        pairs.height,
        [],
        model.parameters,
        list(model.blocking),
        unreadable=_unreadable(wh, flags_dirty),
        unused=_unused(wh, prepared_dirty, comparisons),
        prior=model.prior,
        model=model,
    )
    # the state, brought up to date: the records gone or changed out, the dirty ones in, the links replaced
    for table in ("core.match_state_records", "core.match_state_keys"):
        wh.run("core/match_state_forget", identifiers={"table": table})
    wh.execute("drop table _match_state_gone")
    dirty_rows = _state_rows(dirty, flags_dirty, prepared_dirty)
    wh.write_frame("_match_state_records", dirty_rows, temp=True)
    wh.insert("core.match_state_records", "core/match_state_records")
    wh.execute("drop table _match_state_records")
    wh.write_frame("_match_state_keys", dirty_keys.drop("node"), temp=True)
    wh.insert("core.match_state_keys", "core/match_state_keys")
    wh.execute("drop table _match_state_keys")
    store_block_sizes(wh, affected_sizes)
    _write_links(wh, links, ids)
    return MatcherRun(outcome, "incremental", changed_records=dirty.height, removed_records=gone.height)


def _state_rows(hashes: pl.DataFrame, flags: pl.DataFrame, prepared: pl.DataFrame) -> pl.DataFrame:
    """Rows of core.match_state_records: record key and hashes, unreadable flags, prepared fields (same order)."""
    return pl.concat(
        [
            hashes.select(*RECORD_KEY, *HASHES),
            flags.rename({c: f"{UNREADABLE}{c}" for c in flags.columns}),
            prepared.drop("node"),
        ],
        how="horizontal",
    )


def _write_links(wh: Warehouse, links: pl.DataFrame, ids: pl.DataFrame) -> None:
    """Replace core.match_state_links with the links (left, right nodes) named by their records."""
    named = (
        links.join(ids.rename({"node": "left", "record_source": "source_a", "record_id": "id_a"}), on="left")
        .join(ids.rename({"node": "right", "record_source": "source_b", "record_id": "id_b"}), on="right")
        .drop("left", "right")
    )
    wh.write_frame("_match_state_links", named, temp=True)
    wh.build("core.match_state_links", "core/match_state_links")
    wh.execute("drop table _match_state_links")


def write_state(
    wh: Warehouse,
    records: pl.DataFrame,
    outcome: MatchOutcome,
    settings: MatchSettings,
    as_of: date,
    keys: Path | None = None,
) -> None:
    """Replace the matcher state with that of a full run (its prepared records, their keys, its links).

    keys: the run's blocking keys as its candidate pairs were made from them (match_records' keys_to); when
    missing, they are made again from the prepared records (the same keys)."""
    model, prepared = outcome.model, outcome.prepared
    if model is None or prepared is None:
        forget_matcher(wh)
        return
    hashes = record_hashes(records)
    inputs = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64)).drop(RECORD_KEY)
    flags = unreadable_flags(inputs, prepared, settings.comparisons)
    # read from the frame, not copied into a temp table: the transaction would keep that until it ends
    with wh.registered("_match_state_records", _state_rows(hashes, flags, prepared)):
        wh.build("core.match_state_records", "core/match_state_records")
    ids = hashes.select(RECORD_KEY).with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    # every record's keys (~15M rows at 1M customers) are made, named and counted in DuckDB outside the
    # transaction, where what is dropped is freed (Warehouse.scratch); the transaction reads the results
    with wh.scratch() as (scratch, folder):
        named, blocks = folder / "keys.parquet", folder / "blocks.parquet"
        kept = keys is not None and keys.exists()
        if kept:  # read where they are: a node range of a batch skips most of the file's row groups
            scratch.parquet_view("_blocking_keys", keys)
        else:
            fill_blocking_keys(scratch, prepared, model.rules, settings.comparisons)
        with scratch.registered("_match_state_ids", ids):
            scratch.copy_model(named, "core/blocking/named_keys")
        count_blocks(scratch, ids.height, blocks)
        scratch.execute(f"drop {'view' if kept else 'table'} _blocking_keys")
        for view, path, table in (
            ("_match_state_keys", named, "core.match_state_keys"),
            ("_match_state_block_sizes", blocks, "core.match_state_blocks"),
        ):
            wh.parquet_view(view, path)
            wh.build(table, table.replace(".", "/"))
            wh.execute(f"drop view {view}")
    _write_links(wh, outcome.links, ids)
    update_state_meta(wh, model, records, as_of)


def update_state_meta(wh: Warehouse, model: MatchModel, records: pl.DataFrame, as_of: date) -> None:
    """Replace core.match_state's row: the model and records signature the state holds, as of which day."""
    meta = pl.DataFrame(
        {
            "model_id": [model.model_id],
            "signature": [record_signature(records)],
            "version": [STATE_VERSION],
            "as_of": [as_of],
            "records": [records.height],
        },
        schema={
            "model_id": pl.String,
            "signature": pl.String,
            "version": pl.Int32,
            "as_of": pl.Date,
            "records": pl.Int64,
        },
    )
    wh.write_frame("_match_state", meta, temp=True)
    wh.build("core.match_state", "core/match_state")
    wh.execute("drop table _match_state")

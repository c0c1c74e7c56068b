"""The publish stage's customer files in shards (a lake's `shards`; tasks/shared/shards.py).

The two files of every published customer, customer_segments.parquet and .csv, are the export's largest
part. With shards, the stage first commits the day's rows as they will be published into a work table
(`published.export_parts_<id>`, the published table's columns), then each shard (a flow run of the
`stage-shard` deployment, stage `publish`) writes its customers' rows as part files into
`exports/.versions/<as_of>/.parts-<id>/`; the stage then joins the parts into the two files of the export
version inside its transaction. The files are sorted by customer_id, so shard k holds the k-th range of
customer ids (not a hash, as the other stages' shards): the parts join in order, the CSV parts as bytes.
The other files (segment sizes, report, destinations, outreach lists) are the stage's own. The export folder
must be on storage every worker of the pool can write (on one host it is); a shard that cannot is computed
by the stage instead, as any shard that fails.

The export audit then reads the joined files back against the published rows, as for files written at once.
"""

import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl

from tasks.act import ensure_act_tables
from tasks.publish.destinations import NO_SOURCE_IDS, SOURCE_IDS, source_ids_sql
from tasks.publish.tables import ensure_published_table
from tasks.shared import shards as sharding
from tasks.shared.config import PipelineConfig
from tasks.shared.files import UTF8_BOM, atomic_write, write_file
from tasks.shared.warehouse import Warehouse, quote_column, quote_identifier, sql_literal

PARTS = sharding.WorkTables("published", "export_parts_")
PUBLISHED = "published.customer_segments"
CUSTOMER_FILE_STEM = "customer_segments"


def customer_file_sql(
    wh: Warehouse, table: str, pii: Sequence[str], rows: str | None = None, source_ids: bool = False
) -> str:
    """The query of the customer files' rows of a day ($as_of) of table (published/customer_file.sql), by
    customer_id; rows: a condition on the table (a shard's range), None for all. source_ids (the config's
    export_source_ids) adds the ids the sources know each customer by, unless privacy.pii_fields lists them."""
    wanted = source_ids and SOURCE_IDS not in pii
    # a shard reads only its own customers' records
    ids = source_ids_sql(wh, None if rows is None else "segments") if wanted else NO_SOURCE_IDS
    sql = wh.model_sql(
        "published/customer_file", {"segments": table}, {"rows": rows or "true", "source_ids": ids}
    )
    return sql if wanted else f"select * exclude ({SOURCE_IDS}) from ({sql})"


def parts_table() -> str:
    """A new name for a run's export shards' work table."""
    return PARTS.new()


def parts_folder(exports: Path, as_of: date, work_table: str) -> Path:
    """Where the shards of a run write their part files (named after its work table)."""
    return exports / ".versions" / as_of.isoformat() / f".parts-{work_table.rsplit('_', 1)[-1]}"


def shard_range(wh: Warehouse, work_table: str, shard: int, shards: int) -> str:
    """The SQL condition on customer_id that keeps shard `shard` of `shards`: the shard-th of `shards` ranges
    of the work table's customer ids (its quantiles), so that the parts in shard order are in customer_id
    order."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard {shard} is not one of 0..{shards - 1}")
    if shards == 1:
        return "true"
    cuts = [k / shards for k in range(1, shards)]
    (bounds,) = wh.rows(f"select quantile_disc(customer_id, {cuts}) from {quote_identifier(work_table)}")[0]
    if bounds is None:  # no customers: every shard is empty but the first
        return "true" if shard == 0 else "false"
    above = "true" if shard == 0 else f"customer_id >= {sql_literal(bounds[shard - 1])}"
    below = "true" if shard == shards - 1 else f"customer_id < {sql_literal(bounds[shard])}"
    return f"{above} and {below}"


def make_parts(wh: Warehouse, run_id: str, work_table: str) -> int:
    """Commit the day's rows as they will be published (published/customer_segments with the run's id, in
    the published table's columns) into the run's work table; how many. Work tables killed runs left go
    first; the published and act tables are made or given their new columns if they need to be."""
    PARTS.drop_stale(wh)
    with wh.transaction():
        ensure_act_tables(wh)
        ensure_published_table(wh, PUBLISHED, {"run_id": run_id})
    columns = wh.describe(quote_identifier(PUBLISHED))
    definition = ",\n    ".join(f"{quote_column(name)} {sql_type}" for name, sql_type in columns)
    # defined by its columns and filled in a transaction of its own (sql/ops/published_table.sql says why)
    wh.run("ops/published_table", identifiers={"table": work_table}, fragments={"columns": definition})
    with wh.transaction():
        return wh.insert(work_table, "published/customer_segments", {"run_id": run_id})


def write_part(
    wh: Warehouse,
    work_table: str,
    folder: Path,
    shard: int,
    shards: int,
    as_of: date,
    pii: Sequence[str],
    source_ids: bool = False,
) -> int:
    """Write shard `shard` of `shards` of the work table's customer file rows (customer_file_sql) as part
    files into folder: Parquet, and CSV without a header; how many rows."""
    condition = shard_range(wh, work_table, shard, shards)
    frame = wh.frame(customer_file_sql(wh, work_table, pii, condition, source_ids), {"as_of": as_of})
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # atomic_write's temporary names are each writer's own: a shard given up on may still be writing while
    # the stage writes the same part (the same rows); whichever rename comes last leaves a whole file
    write_file(frame, folder / part_name(shard, "parquet"))
    write_file(frame, folder / part_name(shard, "csv"), header=False)
    return frame.height


def part_name(shard: int, suffix: str) -> str:
    """The file name of a shard's part."""
    return f"part-{shard:05d}.{suffix}"


def export_shard(
    wh: Warehouse, pipeline: PipelineConfig, as_of: date, shard: int, shards: int, work_table: str
) -> int:
    """Shard `shard` of `shards` of the as_of's customer files, written as part files for the publish stage
    that made the work table (a shard's flow run: flows/stage_shard.py); how many rows."""
    PARTS.check(work_table)
    if not wh.table_exists(work_table):
        return 0  # the stage no longer needs it: it went on without this shard
    folder = parts_folder(pipeline.exports_path, as_of, work_table)
    pii, ids = pipeline.privacy.pii_fields, pipeline.export_source_ids
    return sharding.added(
        wh, work_table, lambda: write_part(wh, work_table, folder, shard, shards, as_of, pii, ids)
    )


def join_parts(folder: Path, shards: int, target: Path) -> dict[str, int]:
    """customer_segments.parquet and .csv in target from the shards' part files in folder, in shard order;
    the rows of each."""
    parts = [pl.read_parquet(folder / part_name(k, "parquet")) for k in range(shards)]
    frame = pl.concat(parts, how="vertical")
    write_file(frame, target / f"{CUSTOMER_FILE_STEM}.parquet")
    with atomic_write(target / f"{CUSTOMER_FILE_STEM}.csv", "wb") as handle:
        handle.write(UTF8_BOM)
        frame.head(0).write_csv(handle)  # the header
        for k in range(shards):
            with (folder / part_name(k, "csv")).open("rb") as part:
                shutil.copyfileobj(part, handle, 1 << 20)
    return {f"{CUSTOMER_FILE_STEM}.parquet": frame.height, f"{CUSTOMER_FILE_STEM}.csv": frame.height}


@contextmanager
def customer_parts(
    wh: Warehouse,
    config: PipelineConfig,
    as_of: date,
    run_id: str,
    plan: sharding.ShardPlan,
    logger: logging.Logger | logging.LoggerAdapter,
) -> Iterator[tuple[Path, sharding.ShardRuns]]:
    """The day's customer files as part files written by the plan's shards: their folder and how each ran;
    the work table and the folder are removed when the block ends."""
    work_table = plan.work_table
    folder = parts_folder(config.exports_path, as_of, work_table)
    pii = config.privacy.pii_fields

    def write(shard: int) -> int:
        return write_part(wh, work_table, folder, shard, plan.shards, as_of, pii, config.export_source_ids)

    try:
        make_parts(wh, run_id, work_table)
        ran = sharding.run_shards(plan, write, logger)
        for shard in range(plan.shards):  # a run that ended COMPLETED on a host that writes elsewhere
            if not all((folder / part_name(shard, suffix)).is_file() for suffix in ("parquet", "csv")):
                how = "here (its flow run's part files are not in the exports folder)"
                logger.info("customer files shard %d of %d: computed %s", shard + 1, plan.shards, how)
                ran.ran[shard] = how
                write(shard)
        yield folder, ran
    finally:
        sharding.drop_work_table(wh, work_table)
        shutil.rmtree(folder, ignore_errors=True)

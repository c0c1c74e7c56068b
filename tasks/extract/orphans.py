"""Sources the warehouse holds that the config no longer names: removed from the config, or renamed.

Their staged rows would go on counting in every customer's features (a removed payments source's revenue), and a
renamed source reads its files again under its new name, so its rows would count twice. So a run, and `segments
check`, stop at such a source until the user says what it is: put back in the config, or removed with
`--full-refresh <its old name>` (a full refresh reads a source again from scratch; a source no longer in the
config reads nothing, so its rows go from raw, staging and the load state). `--full-refresh all` removes every
such source.
"""

import logging
from collections.abc import Iterable

from tasks.extract.load_state import forget_rows
from tasks.extract.tables import staging_tables
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import CANONICAL_FIELDS
from tasks.shared.text import counted
from tasks.shared.warehouse import Warehouse


def orphans(config: PipelineConfig, loaded: Iterable[str]) -> list[str]:
    """The sources among those loaded (names in audit.load_state) that the config does not name."""
    return sorted(set(loaded) - {source.name for source in config.sources})


def orphan_message(name: str, files: int) -> str:
    """Why a run stops at a source the config no longer names, and what to do."""
    return (
        f"the warehouse holds the rows of source {name!r} ({counted(files, 'loaded file')}), "
        "which the config no longer names: they would go on counting in every customer's features, and a "
        f"source renamed from it reads its files again (counted twice). Run once with --full-refresh {name} to "
        "remove its rows (the flow's full_refresh parameter), or put the source back in the config"
    )


def loaded_sources(wh: Warehouse) -> dict[str, int]:
    """Each source in the load state, with its files (or database batches) loaded."""
    return dict(wh.rows("select source, count(*) from audit.load_state group by source"))


def forget_orphan(wh: Warehouse, name: str, logger: logging.Logger | logging.LoggerAdapter) -> None:
    """Remove every row of a source the config no longer names (raw, staging, quarantine, load state), and say so."""
    kind = wh.scalar(
        "select kind from audit.extract_log where source = ? order by loaded_at desc limit 1", [name]
    )
    raw_kind = wh.scalar(
        "select any_value(table_type) from information_schema.tables where table_schema = 'raw' and table_name = ?",
        [name],
    )
    # what forget_rows reads of a source: its name, kind, and whether raw reads its files in place (a view)
    source = SourceConfig.model_construct(
        name=name,
        kind=kind,
        format="parquet" if raw_kind == "VIEW" else "csv",
        read_in_place=raw_kind == "VIEW",
    )
    kinds = [kind] if kind in CANONICAL_FIELDS else list(CANONICAL_FIELDS)
    staged = 0
    for each in kinds:
        source = source.model_copy(update={"kind": each})
        staged += sum(
            wh.scalar(f"select count(*) from {table} where source = ?", [name])
            for table in staging_tables(each)
        )
        forget_rows(wh, source)
    logger.warning(
        "source %s: not in the config, and named in --full-refresh: its rows are removed (%s staged)",
        name,
        counted(staged, "row"),
    )

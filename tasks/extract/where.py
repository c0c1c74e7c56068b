"""A source's `where` at load time: how many rows of a batch it leaves out, and, for a database source read by
watermark, the records whose newer row it leaves out (a full refresh would stage nothing of them)."""

from collections.abc import Mapping
from typing import Any

from tasks.extract.staging import kept_sql, mapping_sql, text_sql
from tasks.extract.tables import raw_table
from tasks.shared.config import SourceConfig
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.warehouse import Warehouse


def filtered_counts(
    wh: Warehouse,
    source: SourceConfig,
    batch: Mapping[str, Any],
    raw_rows: str | None,
    types: Mapping[str, str],
) -> dict[str, int]:
    """Per file, the rows of the batch the source's `where` leaves out (sql/staging/filtered_counts.sql)."""
    if source.where is None:
        return {}
    sql = wh.model_sql(
        "staging/filtered_counts",
        {"raw_rows": raw_rows or raw_table(source)},
        {"kept": kept_sql(source, types)},
    )
    return dict(wh.rows(sql, batch))


def forget_left_out(
    wh: Warehouse,
    source: SourceConfig,
    batch: Mapping[str, Any],
    raw_rows: str | None,
    types: Mapping[str, str],
) -> None:
    """A database source read by watermark: unstage the records whose newer row the where leaves out
    (sql/staging/filtered_versions.sql), as a full refresh, reading only newest rows, would not stage them."""
    id_field = ID_FIELDS[source.kind]
    if id_field not in source.columns:
        return  # rows without an id are facts of their own: none is a newer version of another
    mapping = mapping_sql(source, types)[id_field]
    wh.run(
        "staging/filtered_versions",
        batch,
        identifiers={"kind": source.kind, "id_field": id_field, "raw_rows": raw_rows or raw_table(source)},
        fragments={
            "id": text_sql(f"try(({mapping}\n))", types.get(f"m_{id_field}")),
            "kept": kept_sql(source, types),
        },
    )

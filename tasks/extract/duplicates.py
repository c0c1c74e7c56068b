"""Rows that repeat an id: dropped as duplicates, quarantined as conflicts, or kept as the newest version."""

from tasks.extract.staging import fingerprint_sql, recency_sql
from tasks.shared.config import SourceConfig
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.warehouse import Warehouse


def replaces_versions(source: SourceConfig) -> bool:
    """Whether a later row with a known id is a new version of it (replaces) rather than a duplicate or conflict.

    True for database sources with a watermark and for customers sources (a CRM exports its members
    again when they change); transactions, events and feedback are facts: they do not change.
    """
    return source.watermark is not None or source.kind == "customers"


def mark_duplicates(wh: Warehouse, source: SourceConfig) -> None:
    """Set `_duplicate_of` of _checked rows that repeat an id; quarantine same-id rows whose values differ.

    The first row of an id wins: one already staged (from an earlier file or run), else the first by
    file and row. A later row with the same values is a duplicate (dropped, recorded); with other
    values it is a conflict (quarantined). A source whose rows are versions (see replaces_versions)
    keeps the newest version of an id, replaces the staged one with it, and drops older ones of the batch.
    """
    id_field = ID_FIELDS[source.kind]
    if id_field not in source.columns:
        return
    if replaces_versions(source):
        model = "staging/ranked_versions"
        fragments = {"fingerprint": fingerprint_sql(source.kind), "recency": recency_sql(source.kind)}
    else:
        model = "staging/ranked_duplicates"
        fragments = {"fingerprint": fingerprint_sql(source.kind)}
    identifiers = {"kind": source.kind, "id_field": id_field}
    wh.build(
        "_ranked", model, {"source": source.name}, temp=True, identifiers=identifiers, fragments=fragments
    )
    wh.run("staging/mark_duplicates")
    wh.run("staging/mark_conflicts", identifiers={"id_field": id_field})
    wh.execute("drop table _ranked")

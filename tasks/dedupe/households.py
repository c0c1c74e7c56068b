"""Match key values two people hold: a household's phone or e-mail links nobody.

A phone, e-mail or device id that records of two people hold (tasks.dedupe.comparisons.PersonConflict:
their given names differ, and so do their sex or birth dates) is a family's or a household's, not one person's.
Linking on it would make husband, wife and children one customer, so dedupe does not link on such a value, as on
a value shared by more than max_key_records records (graph/shared.sql). Each person's own records that share it
are still linked by the probabilistic matcher when their evidence is enough, and by any other key they share.
A national id is one person's: records sharing one stay linked however they differ (a typo or a wrong field, which
core.identity_conflicts reports when national ids themselves disagree).

A value is judged over every record holding it (graph/holder_pairs.sql: the values of 2 to max_key_records
records), from the customer records the matcher reads (holders that are no customer record, a payment's phone,
are no evidence either way). The values judged so are kept as core.identity_two_people (tasks/dedupe/touched.py):
a run judges again only the values its changed records hold, and its links equal a full run's.
"""

from collections.abc import Sequence

import polars as pl

from tasks.dedupe.comparisons import Comparison, PersonConflict
from tasks.dedupe.levels import NAME_PAIR, code_records, comparison_levels
from tasks.dedupe.preparation import decimal_marks, prepare_records
from tasks.shared.warehouse import Warehouse

# the values judged two people's: key, value and the records holding it (core.identity_two_people)
TWO_PEOPLE_SCHEMA = {"key": pl.String, "value": pl.String, "records": pl.Int64}
RECORD_KEY = ("record_source", "record_id")
# the match keys (tasks.dedupe.graph.MATCH_KEYS) a household can share
SHARED_KEYS = ("email_norm", "phone_norm", "device_id")


def conflict_comparisons(conflict: PersonConflict, comparisons: Sequence[Comparison]) -> list[Comparison]:
    """The comparisons a pair's conflict is read from: the rule's own, and the name comparisons read with the
    given name (a swapped or romanized name agrees: tasks.dedupe.levels.NAME_PAIR), as the matcher reads them."""
    return [c for c in comparisons if c.name in conflict.names or c.name in NAME_PAIR]


def two_people_values(
    wh: Warehouse,
    holders: str,
    records: pl.DataFrame,
    comparisons: Sequence[Comparison],
    conflict: PersonConflict | None,
    max_key_records: int,
) -> pl.DataFrame:
    """The key values of holders (a table or view: key, value, record_source, record_id, every holder of each
    value) that two people hold (TWO_PEOPLE_SCHEMA, in key, value order); none without a conflict rule.

    records: the customer records the matcher reads (read_match_records), in record order."""
    if conflict is None:
        return pl.DataFrame(schema=TWO_PEOPLE_SCHEMA)
    # a configured difference (an age) is a match column, which the SQL prefilter does not read
    names_only = any(c.person_conflict for c in comparisons if c.name in conflict.names)
    pairs = wh.frame(
        wh.model_sql("core/graph/holder_pairs", {"holders": holders}),
        {"keys": list(SHARED_KEYS), "max_key_records": max_key_records, "names_only": names_only},
    )
    if pairs.is_empty():
        return pl.DataFrame(schema=TWO_PEOPLE_SCHEMA)
    numbered = records.with_row_index("node").with_columns(pl.col("node").cast(pl.Int64))
    nodes = numbered.select("node", *RECORD_KEY)
    pairs = pairs.join(
        nodes.rename({"node": "left", "record_source": "source_a", "record_id": "id_a"}),
        on=["source_a", "id_a"],
    ).join(
        nodes.rename({"node": "right", "record_source": "source_b", "record_id": "id_b"}),
        on=["source_b", "id_b"],
    )
    if pairs.is_empty():
        return pl.DataFrame(schema=TWO_PEOPLE_SCHEMA)
    used = conflict_comparisons(conflict, comparisons)
    held = pl.concat([pairs["left"], pairs["right"]]).unique().sort()
    subset = numbered[held.to_numpy()]
    # numbers read as the matcher reads them (their decimal marks decided from every record)
    prepared = prepare_records(subset, used, decimal_marks(records, used))
    given = next(c.column for c in used if c.name == conflict.given)
    named = prepared.filter(pl.col(given).is_not_null())["node"].implode()
    # no given name, no conflict
    pairs = pairs.filter(pl.col("left").is_in(named) & pl.col("right").is_in(named))
    if pairs.is_empty():
        return pl.DataFrame(schema=TWO_PEOPLE_SCHEMA)
    levels = comparison_levels(
        prepared, pairs.select("left", "right"), code_records(prepared, used), used, None
    )
    return (
        pairs.filter(pl.Series(conflict.pairs(levels)))
        .select("key", "value", "records")
        .unique()
        .sort("key", "value")
        .cast(TWO_PEOPLE_SCHEMA)  # type: ignore[arg-type]
    )

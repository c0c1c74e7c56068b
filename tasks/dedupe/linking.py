"""One run's record graph, after the matcher: the key values records hold, then the clusters.

open_graph builds what the run reads of the records' keys (the _observations view, the holders of each key
value, and for a touched run the changed values: tasks.dedupe.touched.key_changes); the values two people hold
are judged from them (tasks.dedupe.households); then cluster links the records (every one, or the touched ones:
tasks.dedupe.touched), leaving those values out, and drops what open_graph built.
"""

from dataclasses import replace

import polars as pl

from tasks.dedupe.graph import RecordClusters, link_records
from tasks.dedupe.touched import kept_graph, key_changes, touch_records
from tasks.shared.config import DedupeConfig
from tasks.shared.warehouse import Warehouse


def open_graph(wh: Warehouse, touched: bool) -> str:
    """Build the _observations view (record_observations and hashed national ids) and _holders (every record's
    key values); touched: also key_changes' tables. Return the table of the holders whose values are judged
    for two people: every holder, or the changed values' holders (touched)."""
    wh.run(
        "core/graph/observations",
        identifiers={
            "view": "_observations",
            "observations": "core.record_observations",
            "customer_records": "core.customer_records",
        },
    )
    if touched:  # a view: only the changed values' holders are read (key_changes)
        wh.build_view("_holders", "core/graph/holders", {"observations": "_observations"}, temp=True)
        key_changes(wh)
        return "_key_holders"
    # a table: read twice, for the values two people hold and for the graph's edges
    wh.build("_holders", "core/graph/holders", temp=True, identifiers={"observations": "_observations"})
    return "_holders"


def cluster(
    wh: Warehouse,
    settings: DedupeConfig,
    pair_links: pl.DataFrame | None,
    two_people: pl.DataFrame,
    touched: bool,
) -> tuple[RecordClusters, int | None]:
    """The run's clusters, and how many records were touched (None: every record was linked).

    two_people: the values two people hold (tasks.dedupe.households.TWO_PEOPLE_SCHEMA), of every holder or,
    touched, of the changed values; the kept ones stand for the others (graph/apart.sql)."""
    wh.write_frame("_two_people", two_people, temp=True)
    if touched:
        wh.build("_apart", "core/graph/apart", temp=True)
        touched_records = touch_records(wh, pair_links, settings.max_key_records)
        clustered = link_records(
            "_touched_observations",
            settings.max_key_records,
            pair_links,
            settings.max_cluster_size,
            wh,
            known_counts=True,
            apart="_apart",
        )
        wh.execute("drop table _apart")
        clustered = kept_graph(wh, clustered, settings.max_key_records)
        wh.execute("drop view _touched_observations")
    else:
        touched_records = None
        clustered = link_records(
            "_observations",
            settings.max_key_records,
            pair_links,
            settings.max_cluster_size,
            wh,
            apart="_two_people",  # a whole run judged every value
            holders="_holders",
        )
        clustered = replace(clustered, two_people=two_people)
    wh.execute("drop table _two_people")
    wh.execute(f"drop {'view' if touched else 'table'} _holders")
    wh.execute("drop view _observations")
    return clustered, touched_records

"""What a backfill forgets before its first computed day: every model fitted on it or later, nothing before."""

from datetime import date

from flows.backfill import forget_later_models
from tasks.predict.model_store import STORES
from tasks.shared.warehouse import Warehouse

DAYS = [date(2026, 3, n) for n in (1, 2, 3)]


def test_models_fitted_on_the_first_day_or_later_go_and_earlier_ones_stay(wh: Warehouse) -> None:
    for table, model in STORES.items():
        wh.ensure(model)
        for day in DAYS:
            wh.execute(f"insert into {table} values (?, 'run', 'hash', '{{}}', ''::blob, now())", [day])
    wh.ensure("act/model_store")
    wh.execute("insert into act.models values ('recommendations', ?, 'h', '{}', null)", [DAYS[1]])
    wh.execute("insert into act.models values ('lookalike:vip', ?, 'h', '{}', null)", [DAYS[0]])
    wh.ensure("segments/cluster_models")
    wh.ensure("segments/cluster_centroids")
    for day in DAYS:
        wh.execute("insert into segments.cluster_centroids (as_of, cluster_id) values (?, 0)", [day])
    wh.execute("insert into segments.cluster_models (as_of) values (?)", [DAYS[2]])

    assert forget_later_models(wh, DAYS[1]) == [
        "2 stored fits of predict.model_fits",
        "2 stored fits of segments.cluster_fits",
        "the stored act model recommendations",
        "the cluster ids and centroids of 2 days",  # day 2 has centroids only, day 3 both
    ]
    for table in STORES:
        assert wh.rows(f"select fit_day from {table}") == [(DAYS[0],)]
    assert wh.rows("select model from act.models") == [("lookalike:vip",)]
    assert wh.rows("select as_of from segments.cluster_centroids") == [(DAYS[0],)]
    assert wh.rows("select as_of from segments.cluster_models") == []
    assert forget_later_models(wh, DAYS[1]) == []  # a resumed request: nothing left to forget


def test_a_fresh_warehouse_has_nothing_to_forget_and_gets_no_table(wh: Warehouse) -> None:
    tables = "select table_schema, table_name from information_schema.tables order by all"
    before = wh.rows(tables)
    assert forget_later_models(wh, DAYS[0]) == []
    assert wh.rows(tables) == before

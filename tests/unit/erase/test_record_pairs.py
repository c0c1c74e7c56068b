"""Erasure reaches tables keyed by pairs of records (core.match_links, core.match_evidence) on either side."""

from tasks.shared.lineage import delete_record_rows, record_columns
from tasks.shared.warehouse import Warehouse


def test_record_pair_tables_lose_every_pair_with_an_erased_record_on_either_side() -> None:
    with Warehouse(":memory:") as wh:
        wh.execute(
            "create table core.match_links (source_a varchar, id_a varchar, source_b varchar, id_b varchar)"
        )
        wh.execute(
            "insert into core.match_links values ('crm', '1', 'web', '1'), ('crm', '2', 'web', '2'), "
            "('web', '2', 'crm', '1'), ('web', '1', 'crm', '2')"
        )
        # the erased person's record: crm:1 (web:1 is someone else's record with the same id)
        wh.execute("create temp table _erase_records (source varchar, source_id varchar)")
        wh.execute("insert into _erase_records values ('crm', '1')")
        names = wh.columns("core.match_links")
        assert record_columns("core.match_links", names) == [("source_a", "id_a"), ("source_b", "id_b")]
        removed: dict[str, int] = {}
        delete_record_rows(wh, "core.match_links", names, removed)
        assert removed == {"core.match_links": 2}
        assert wh.rows("select * from core.match_links order by all") == [
            ("crm", "2", "web", "2"),
            ("web", "1", "crm", "2"),
        ]
        assert record_columns("raw.crm", ["source", "source_id"]) == []

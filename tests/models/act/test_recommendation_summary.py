"""Model tests of act/recommendation_summary: each table read once, every count of the build."""

from tasks.shared.warehouse import Warehouse


def summary(wh: Warehouse) -> list[dict]:
    return wh.select(
        "act/recommendation_summary", identifiers={"recommendations": "_rec", "interactions": "_ri"}
    )


def test_summary_counts_customers_sources_and_catalogue() -> None:
    wh = Warehouse(":memory:")
    wh.execute("create table _ri (customer_id varchar, item varchar)")
    wh.execute("insert into _ri values ('a', 'x'), ('a', 'y'), ('b', 'x'), ('c', 'z')")
    wh.execute(
        "create table _rec (customer_id varchar, rank integer, item varchar, score double, source varchar)"
    )
    wh.execute(
        "insert into _rec values ('a', 1, 'z', 0.5, 'similar'), ('b', 1, 'y', 0.4, 'similar'), "
        "('b', 2, 'z', 0.3, 'popular_in_segment'), ('d', 1, 'x', 0.7, 'popular')"
    )
    assert summary(wh) == [
        {
            "customers": 3,
            "recommendations": 4,
            "similar": 2,
            "popular_in_segment": 1,
            "popular": 1,
            "items_recommended": 3,
            "items": 3,
            "customers_with_items": 3,
        }
    ]
    wh.execute("delete from _rec")
    assert summary(wh) == [
        {
            "customers": 0,
            "recommendations": 0,
            "similar": 0,
            "popular_in_segment": 0,
            "popular": 0,
            "items_recommended": 0,
            "items": 3,
            "customers_with_items": 3,
        }
    ]

"""Fact sources whose customer_ref values mostly match no record of their customers source are named."""

from tasks.dedupe.references import unmatched_references
from tasks.shared.warehouse import Warehouse


def staged(wh: Warehouse, customers: list[str], payments: list[str], game: list[str]) -> None:
    """crm records with these source ids; payments and game rows with these customer_ref values."""
    wh.execute(
        "create table staging.customers as select 'crm' as source, unnest(?::varchar[]) as source_id",
        [customers],
    )
    wh.execute(
        "create table staging.transactions as select 'payments' as source, unnest(?::varchar[]) as customer_ref",
        [payments],
    )
    wh.execute(
        "create table staging.events as select 'game' as source, unnest(?::varchar[]) as customer_ref", [game]
    )
    wh.execute(
        "create table core.source_links as select * from (values ('crm', null), ('payments', 'crm'), "
        "('game', 'crm')) as t(source, customer_source)"
    )


def test_refs_written_as_decimals_are_named_with_the_mapping_that_matches_them(wh: Warehouse) -> None:
    # payments wrote the CRM's ids as floats; the game's refs match but for one guest; a null ref is no ref
    staged(
        wh,
        customers=["12", "17850", "2"],
        payments=["17850.0", "17850.0", "12.0", "99.0", None],
        game=["12", "17850", "guest"],
    )
    assert unmatched_references(wh) == [
        "source payments: 3 of 3 customer_ref values (100%) match no record of customers source crm "
        "(e.g. '12.0', '17850.0', '99.0'); each becomes a customer of its own. 2 of them would match without "
        "a trailing '.0': map customer_ref as regexp_replace(<column>, '[.]0+$', '')"
    ]


def test_only_a_source_most_of_whose_refs_match_nothing_is_named(wh: Warehouse) -> None:
    # payments: one guest of three refs; game: three of four refs unknown to the CRM
    staged(wh, customers=["1", "2", "3"], payments=["1", "2", "guest"], game=["x", "y", "z", "1"])
    assert unmatched_references(wh) == [
        "source game: 3 of 4 customer_ref values (75%) match no record of customers source crm "
        "(e.g. 'x', 'y', 'z'); each becomes a customer of its own"
    ]


def test_half_unmatched_is_not_most(wh: Warehouse) -> None:
    staged(wh, customers=["1", "2"], payments=["1", "guest"], game=["2", "visitor"])
    assert unmatched_references(wh) == []


def test_a_source_without_customers_source_writing_one_id_both_ways_is_named(wh: Warehouse) -> None:
    # the shop's two files: one writes 17850, the other 17850.0 (a float column); 12.50 is no whole number,
    # 99.0 has no plain twin, and the payments (linked to the CRM) are checked against its records instead
    staged(wh, customers=["1"], payments=["1", "1.0"], game=[])
    wh.execute(
        "insert into staging.transactions values ('shop', '17850'), ('shop', '17850.0'), ('shop', '17850.0'), "
        "('shop', '12'), ('shop', '12.00'), ('shop', '12.50'), ('shop', '99.0'), ('shop', null)"
    )
    wh.execute("insert into core.source_links values ('shop', null)")
    assert unmatched_references(wh) == [
        "source shop: 2 customer_ref values are whole numbers written as decimals that the source also writes "
        "without them (e.g. 12.00 and 12, 17850.0 and 17850): each person is two customers; map customer_ref as "
        "regexp_replace(<column>, '[.]0+$', '')"
    ]


def test_a_source_whose_export_drops_the_decimals_later_is_named_on_the_day_it_does(wh: Warehouse) -> None:
    # the shop's first export wrote a float column (17850.0); a later file writes 17850: read on that day, the
    # new plain refs meet the decimals staged before; a day whose new file repeats neither form says nothing
    staged(wh, customers=["1"], payments=["1"], game=[])
    for kind in ("transactions", "events"):
        wh.execute(f"alter table staging.{kind} add column _file varchar")
    wh.execute(
        "insert into staging.transactions values ('shop', '17850.0', 'a.csv'), ('shop', '12.0', 'a.csv'), "
        "('shop', '99.0', 'a.csv'), ('shop', '17850', 'b.csv'), ('shop', '12', 'b.csv'), ('shop', '7', 'b.csv'), "
        "('shop', '5', 'c.csv')"
    )
    wh.execute("insert into core.source_links values ('shop', null)")
    wh.execute("create table changes (source varchar, file varchar, change varchar)")
    wh.execute("insert into changes values ('shop', 'b.csv', 'new'), ('shop', 'a.csv', 'unchanged')")
    expected = [
        "source shop: 2 customer_ref values are whole numbers written as decimals that the source also writes "
        "without them (e.g. 12.0 and 12, 17850.0 and 17850): each person is two customers; map customer_ref as "
        "regexp_replace(<column>, '[.]0+$', '')"
    ]
    assert unmatched_references(wh, "changes") == expected
    assert unmatched_references(wh) == expected  # every file read at once: the same pairs, once each
    wh.execute("update changes set change = 'unchanged' where file = 'b.csv'")
    wh.execute("insert into changes values ('shop', 'c.csv', 'new')")
    assert unmatched_references(wh, "changes") == []

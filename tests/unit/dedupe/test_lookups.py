"""Contact lookups kept across runs: a run normalizes only the staged values it has not seen."""

import re

from tasks.dedupe.lookups import build_lookups
from tasks.extract import create_tables
from tasks.shared.warehouse import SQL_DIR, Warehouse
from tests.unit.dedupe.match_world import world_config

LOOKUPS = ("core.email_lookup", "core.phone_lookup", "core.device_lookup")


def stage(wh: Warehouse, table: str, email: str | None, phone: str | None, device: str | None) -> None:
    """One staged row with these contact values."""
    wh.execute(
        f"insert into {table} (source, email, phone, device_id) values ('crm', ?, ?, ?)",
        [email, phone, device],
    )


def lookups(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every lookup's rows (raw, norm), sorted."""
    return {table: wh.rows(f"select raw, norm from {table} order by raw") for table in LOOKUPS}


def test_a_run_normalizes_only_new_values_and_a_settings_change_all_again() -> None:
    config = world_config()
    with Warehouse(":memory:") as wh:
        create_tables(wh)
        stage(wh, "staging.customers", "A@X.com", "139 2468 1357", "dev-1")
        stage(wh, "staging.events", None, "13800000000", "dev-1")
        assert build_lookups(wh, config) == {
            "core.email_lookup": 1,
            "core.phone_lookup": 2,
            "core.device_lookup": 1,
        }
        stage(wh, "staging.transactions", "a@x.com", "139 2468 1357", None)
        assert build_lookups(wh, config) == {
            "core.email_lookup": 1,
            "core.phone_lookup": 0,
            "core.device_lookup": 0,
        }
        kept = lookups(wh)
        assert kept == {
            "core.email_lookup": [("A@X.com", "a@x.com"), ("a@x.com", "a@x.com")],
            "core.phone_lookup": [("13800000000", None), ("139 2468 1357", "+8613924681357")],
            "core.device_lookup": [("dev-1", "dev-1")],
        }
        with Warehouse(":memory:") as fresh:  # the same staged values, normalized in one run
            create_tables(fresh)
            for table in ("staging.customers", "staging.events", "staging.transactions"):
                for row in wh.rows(f"select email, phone, device_id from {table}"):
                    stage(fresh, table, *row)
            build_lookups(fresh, config)
            assert lookups(fresh) == kept
        # another placeholder: every value normalized again with it
        placeholder = world_config(placeholders=["13924681357"])
        assert build_lookups(wh, placeholder) == {
            "core.email_lookup": 2,
            "core.phone_lookup": 2,
            "core.device_lookup": 1,
        }
        assert wh.rows("select raw, norm from core.phone_lookup order by raw") == [
            ("13800000000", None),
            ("139 2468 1357", None),
        ]


def test_a_lookup_rebuilt_inside_the_stage_transaction_keeps_every_value() -> None:
    # more values than a DuckDB row group (122,880): inserted after an empty table's create in the same
    # transaction, they were hidden (every phone read as unusable)
    with Warehouse(":memory:") as wh:
        create_tables(wh)
        wh.execute(
            "insert into staging.events (source, phone) "
            "select 'crm', '1391' || lpad(cast(i as varchar), 7, '0') from range(130000) as t(i)"
        )
        with wh.transaction():
            build_lookups(wh, world_config())
            assert wh.scalar("select count(norm) from core.phone_lookup") == 130000
        assert wh.scalar("select count(norm) from core.phone_lookup") == 130000


def test_the_four_models_that_read_a_records_name_read_it_alike() -> None:
    # the name lookup is keyed by this raw name: a model that built it otherwise would find no normalized name
    # (customer_records, unusable_values) or miss a value to erase (person_values)
    expression = re.compile(
        r"coalesce\((\w+\.)?full_name, nullif\(concat_ws\(' ', (\w+\.)?family_name, (\w+\.)?given_name\), ''\)\)"
    )
    models = (
        "core/lookups/name_values",
        "core/customer_records",
        "core/unusable_values",
        "ops/erase/person_values",
    )
    for model in models:
        sql = (SQL_DIR / f"{model}.sql").read_text(encoding="utf-8")
        assert len(expression.findall(sql)) == 1, model
        assert sql.count("concat_ws(") == 1, model  # and no other way of making a name

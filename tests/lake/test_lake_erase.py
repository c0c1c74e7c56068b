"""Erasure on a lake: the person's rows go from the current snapshot, and their values from every file.

A lake keeps deleted rows in their Parquet files (masked by delete files) and older snapshots' files for
time travel, and its PostgreSQL catalog keeps column statistics (minima, maxima) of every file. After the
erasure flow, no Parquet file under the data folder and no row of the catalog holds the person's e-mail
address or phone number, while the other customers' published rows are all still there.
"""

from pathlib import Path

import duckdb

from flows.daily_refresh import daily_refresh
from flows.erase import erase
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END


def files_holding(folder: Path, email: str, phone_digits: str, customer_id: str = "") -> list[str]:
    """The Parquet files under folder with a row that holds the e-mail address (in any case), the phone
    number's digits (however a source wrote it: '+86 189-2531-3284') or customer_id; every row read in full."""
    found = []
    with duckdb.connect() as con:
        for file in sorted(folder.rglob("*.parquet")):
            hits = con.execute(
                "select count(*) from read_parquet(?) as t "
                "where contains(lower(cast(t as varchar)), ?) "
                "or contains(regexp_replace(cast(t as varchar), '[^0-9]', '', 'g'), ?) "
                "or (? <> '' and contains(cast(t as varchar), ?))",
                [str(file), email.lower(), phone_digits, customer_id, customer_id],
            ).fetchall()[0][0]
            if hits:
                found.append(file.relative_to(folder).as_posix())
    return found


def catalog_rows_holding(dsn: str, email: str, phone_digits: str) -> list[str]:
    """Catalog tables (PostgreSQL, public schema) with a live row that holds the e-mail address or the phone
    number's digits, as files_holding."""
    import adbc_driver_postgresql.dbapi as adbc

    found = []
    with adbc.connect(dsn) as con, con.cursor() as cursor:
        cursor.execute("select tablename from pg_tables where schemaname = 'public' order by 1")
        for (table,) in cursor.fetchall():
            cursor.execute(
                f'select count(*) from public."{table}" as t where position($1 in lower(t::text)) > 0 '
                "or position($2 in regexp_replace(t::text, '[^0-9]', '', 'g')) > 0",
                parameters=(email.lower(), phone_digits),
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_erasure_leaves_nothing_in_the_lake(
    prefect_server: None, sample_copy: Path, make_lake_config, lake_catalog: str
) -> None:
    path = make_lake_config(sample_copy)
    daily_refresh(as_of=SAMPLE_END, config=str(path))
    config = load_config(path)
    with Warehouse.open(config, read_only=True) as wh:
        # a customer with an e-mail address and a phone number that no one else has
        customer_id, email, phone = wh.rows(
            "select customer_id, email, phone from core.customers where email is not null and phone is not null "
            "and email in (select email from core.customers group by 1 having count(*) = 1) "
            "order by customer_id limit 1"
        )[0]
        published = wh.scalar("select count(*) from published.customer_segments")
        others = wh.rows(
            "select customer_id from published.customer_segments where customer_id <> ? order by 1",
            [customer_id],
        )
    digits = "".join(c for c in phone if c.isdigit())[-11:]  # the national number, without +86
    before = files_holding(config.warehouse_path, email, digits, customer_id)
    # the check finds the person before: in raw, staging, core and published files alike
    assert {file.split("/")[0] for file in before} >= {"raw", "staging", "core", "published"}

    result = erase(customer_id=customer_id, config=str(path))

    assert result["rows_removed"] > 0
    assert files_holding(config.warehouse_path, email, digits) == []
    # the id is left only where the erasure records itself (audit.erasures, as on a DuckDB file)
    left = files_holding(config.warehouse_path, email, digits, customer_id)
    assert [file.split("/")[:2] for file in left] == [["audit", "erasures"]]
    assert catalog_rows_holding(lake_catalog, email, digits) == []
    with Warehouse.open(config, read_only=True) as wh:
        assert wh.scalar("select count(*) from core.customers where email = ?", [email]) == 0
        after = wh.rows("select customer_id from published.customer_segments order by 1")
        assert after == others
        assert published == len(others) + 1

"""Model tests of core/facts: each transaction, event and feedback row with the customer record it belongs to."""

from __future__ import annotations

from datetime import date

import pytest

from tasks.extract import create_tables
from tasks.shared.contracts import FACT_KINDS, ID_FIELDS
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import columns_of, create, local, lookups, stage

FACT_EMAILS = {"A@X.com": "a@x.com", "a@x.com": "a@x.com", "test@test.com": None, "not an email": None}


FACT_PHONES = {"138-0013-8001": "+8613800138001", "13800000000": None}


def fact_rows(row_id: str) -> list[dict[str, object]]:
    """One row per record-key rule, for the kind whose id field is row_id."""
    ts = local(date(2026, 1, 2))

    def row(
        source: str,
        file: str,
        number: int,
        fact_id: str | None,
        customer_ref: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        device_id: str | None = None,
    ) -> dict[str, object]:
        return {
            "source": source,
            "_file": file,
            "_row": number,
            row_id: fact_id,
            "customer_ref": customer_ref,
            "email": email,
            "phone": phone,
            "device_id": device_id,
            "ts": ts,
        }

    app, shop, kiosk = "/data/app/2026-01.csv", "/data/shop/s.csv", "/data/kiosk/k.csv"
    return [
        # a customer_ref into the source's customers source, whatever identifiers come with it
        row("app", app, 1, "x1", customer_ref="m1", email="a@x.com", device_id="dev1"),
        # no customer_ref: the best normalized identifier, email before phone before device
        row("app", app, 2, "x2", email="A@X.com", phone="138-0013-8001", device_id="dev1"),
        row("app", app, 3, "x3", email="test@test.com", phone="138-0013-8001", device_id="dev1"),
        row("app", app, 4, "x4", email="test@test.com", phone="13800000000", device_id="dev2"),
        # only placeholders or invalid values: a record of its own, by id, else by file name and row
        row("app", app, 5, "x5", email="test@test.com", phone="13800000000"),
        row("app", app, 6, None, email="not an email"),
        # a raw value missing from the lookup counts as not normalized
        row("app", app, 7, None, phone="unknown-raw"),
        # a source without customer_source: the customer_ref is a record of the source itself
        row("shop", shop, 1, "y1", customer_ref="u7", email="a@x.com"),
        row("shop", shop, 2, "y2", email="a@x.com"),
        # a source missing from core.source_links behaves the same
        row("kiosk", kiosk, 1, "z1", customer_ref="k1"),
    ]


@pytest.mark.parametrize("kind", FACT_KINDS)
def test_facts_record_key_derivation(wh: Warehouse, kind: str) -> None:
    row_id = ID_FIELDS[kind]
    create_tables(wh)
    lookups(wh, FACT_EMAILS, FACT_PHONES)
    create(
        wh, "core.source_links", "source varchar, customer_source varchar", [("app", "crm"), ("shop", None)]
    )
    stage(wh, kind, fact_rows(row_id))
    wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": row_id})

    staged = columns_of(wh, "staging", kind)
    assert columns_of(wh, "core", kind) == [
        *staged,
        "email_norm",
        "phone_norm",
        "device_norm",
        "record_source",
        "record_id",
    ]
    assert wh.rows(
        f"select source, _row, {row_id}, email_norm, phone_norm, record_source, record_id "
        f"from core.{kind} order by source, _row"
    ) == [
        ("app", 1, "x1", "a@x.com", None, "crm", "m1"),
        ("app", 2, "x2", "a@x.com", "+8613800138001", "app", "email:a@x.com"),
        ("app", 3, "x3", None, "+8613800138001", "app", "phone:+8613800138001"),
        ("app", 4, "x4", None, None, "app", "device:dev2"),
        ("app", 5, "x5", None, None, "app", "row:x5"),
        ("app", 6, None, None, None, "app", "row:/data/app/2026-01.csv:6"),
        ("app", 7, None, None, None, "app", "row:/data/app/2026-01.csv:7"),
        ("kiosk", 1, "z1", None, None, "kiosk", "k1"),
        ("shop", 1, "y1", "a@x.com", None, "shop", "u7"),
        ("shop", 2, "y2", "a@x.com", None, "shop", "email:a@x.com"),
    ]


def test_facts_rows_without_id_in_same_named_files_of_two_folders_stay_apart(wh: Warehouse) -> None:
    create_tables(wh)
    lookups(wh, FACT_EMAILS, FACT_PHONES)
    create(wh, "core.source_links", "source varchar, customer_source varchar", [("app", "crm")])
    # daily exports, each in its own folder under the same file name (source path: app/*/export.csv)
    stage(
        wh,
        "transactions",
        [
            {"source": "app", "_file": f"/data/app/{day}/export.csv", "_row": 3, "email": "test@test.com"}
            for day in ("2026-01-01", "2026-01-02")
        ],
    )
    wh.build_view("core.transactions", "core/facts", identifiers={"kind": "transactions", "row_id": "txn_id"})
    assert wh.scalar("select count(distinct record_id) from core.transactions") == 2


def test_facts_view_rejects_an_identifier_that_is_not_a_plain_name(wh: Warehouse) -> None:
    with pytest.raises(ValueError, match="not a safe table name"):
        wh.build_view(
            "core.transactions", "core/facts", identifiers={"kind": "transactions; drop", "row_id": "txn_id"}
        )

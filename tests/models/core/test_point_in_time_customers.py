"""Model tests of core/customer_records point in time: each customer record's version valid at the cutoff."""

from __future__ import annotations

from datetime import date, datetime

from tasks.dedupe import dedupe_all
from tasks.dedupe.records import WHOLE
from tasks.extract import create_tables
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, lookups, stage

JAN5 = datetime(2026, 1, 5, 10, tzinfo=SHANGHAI)
MAR5 = datetime(2026, 3, 5, 10, tzinfo=SHANGHAI)
MAY5 = datetime(2026, 5, 5, 10, tzinfo=SHANGHAI)
SIGNUP = datetime(2026, 1, 1, 9, tzinfo=SHANGHAI)


def version(
    source_id: str, row: int, email: str, consent: bool, valid_from, valid_to, **fields: object
) -> dict:
    return {
        "source": "crm",
        "_file": f"crm-{row}.csv",
        "_row": 1,
        "source_id": source_id,
        "email": email,
        "marketing_consent": consent,
        "signup_ts": SIGNUP,
        "updated_at": valid_from,
        "valid_from": valid_from,
        "valid_to": valid_to,
        **fields,
    }


def staged_versions(wh: Warehouse, with_lookups: bool = True) -> None:
    """The versions of four customer records; with_lookups: the lookups as dedupe writes them (else dedupe does)."""
    emails = ("jan@x.com", "mar@x.com", "may@x.com", "old@x.com", "same@x.com", "late@x.com")
    if with_lookups:
        lookups(wh, emails={e: e for e in emails}, phones={})
    else:
        create_tables(wh)
    stage(
        wh,
        "customers",
        [
            # m1: versions in January, March and May
            version("m1", 1, "jan@x.com", True, JAN5, MAR5),
            version("m1", 3, "mar@x.com", False, MAR5, MAY5),
            version("m1", 5, "may@x.com", True, MAY5, None),
            # m2: staged before versions were kept (no valid_from): valid from the start
            version("m2", 1, "old@x.com", True, None, None),
            # m3: two versions from the same instant: the earlier (by file) has an empty interval
            version("m3", 1, "same@x.com", True, JAN5, JAN5),
            version("m3", 2, "same@x.com", False, JAN5, None),
            # m4: its only version was made in May, although it signed up in January
            version("m4", 5, "late@x.com", False, MAY5, None),
        ],
    )


def records(wh: Warehouse, day: date) -> list[tuple]:
    wh.build("core.customer_records", "core/customer_records", {"cutoff": wh.cutoff(day)}, identifiers=WHOLE)
    return wh.rows(
        "select source_id, email, marketing_consent, _file from core.customer_records order by source_id"
    )


def test_customer_records_take_the_version_valid_at_the_cutoff(wh: Warehouse) -> None:
    staged_versions(wh)
    assert records(wh, date(2026, 2, 15)) == [
        ("m1", "jan@x.com", True, "crm-1.csv"),
        ("m2", "old@x.com", True, "crm-1.csv"),
        ("m3", "same@x.com", False, "crm-2.csv"),
        ("m4", "late@x.com", False, "crm-5.csv"),  # no version yet: its first one (known since signup)
    ]
    assert [r[:2] for r in records(wh, date(2026, 3, 4))][0] == ("m1", "jan@x.com")
    assert [r[:2] for r in records(wh, date(2026, 3, 5))][0] == ("m1", "mar@x.com")
    assert [r[:2] for r in records(wh, date(2026, 4, 1))][0] == ("m1", "mar@x.com")
    assert [r[:2] for r in records(wh, date(2026, 6, 1))][0] == ("m1", "may@x.com")
    # versions before the cutoff, read as of a day before the first one: still one row per record
    assert len(records(wh, date(2025, 12, 1))) == 4


def test_golden_record_as_of_february_and_april(wh: Warehouse) -> None:
    staged_versions(wh, with_lookups=False)
    crm = {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "crm/*.csv",
        "columns": {"source_id": "id"},
    }
    config = PipelineConfig.model_validate(
        {"warehouse": ":memory:", "sources": [crm], "dedupe": {"probabilistic": False}}
    )

    def golden(day: date) -> tuple:
        dedupe_all(wh, config, day)
        return wh.rows(
            "select c.email, c.marketing_consent from core.customers as c "
            "join core.identity_map as m using (customer_id) where m.source_id = 'm1'"
        )[0]

    assert golden(date(2026, 2, 15)) == ("jan@x.com", True)
    assert golden(date(2026, 4, 1)) == ("mar@x.com", False)

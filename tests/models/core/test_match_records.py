"""Model tests of core/match_records and core/source_links: the matcher's input, the config's source links."""

from __future__ import annotations

from datetime import date

from tasks.dedupe.comparisons import MATCH_FIELDS
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create, local

RECORD_COLUMNS = (
    "source varchar, source_id varchar, full_name varchar, given_name varchar, family_name varchar, "
    "gender varchar, birth_date date, birth_date_norm date, email_norm varchar, phone_norm varchar, "
    "national_id varchar, address varchar, city varchar, province varchar, postcode varchar, country varchar"
)


def test_match_records_reads_the_fields_the_matcher_compares_of_observed_records(wh: Warehouse) -> None:
    born = date(1990, 3, 7)
    create(
        wh,
        "core.customer_records",
        RECORD_COLUMNS,
        [
            (
                "web",
                "w1",
                "王伟",
                None,
                None,
                "M",
                born,
                born,
                "a@x.com",
                None,
                None,
                None,
                "北京",
                None,
                None,
                None,
            ),
            # a placeholder birth date: the normalized one (null) is what the matcher sees
            (
                "crm",
                "m2",
                None,
                "Ann",
                "Lee",
                "F",
                date(1900, 1, 1),
                None,
                None,
                "+8613800138000",
                "X1",
                "1 Main St",
                "Sydney",
                "NSW",
                "2000",
                "AU",
            ),
            ("crm", "m1", "张三", *[None] * 13),
            ("crm", "m9", "李四", *[None] * 13),
        ],
    )
    create(
        wh,
        "core.record_observations",
        "record_source varchar, record_id varchar, first_seen timestamptz",
        # m9 is not observed as of the cutoff; w1 is observed twice (with two sets of keys)
        [
            ("web", "w1", local(date(2026, 1, 1))),
            ("web", "w1", None),
            ("crm", "m2", None),
            ("crm", "m1", None),
        ],
    )
    records = wh.frame(wh.model_sql("core/match_records"))
    assert records.columns == ["record_source", "record_id", *MATCH_FIELDS]
    assert records.rows() == [  # in record order: the matcher's random pairs depend on it
        ("crm", "m1", "张三", *[None] * 12),
        (
            "crm",
            "m2",
            None,
            "Ann",
            "Lee",
            "F",
            None,
            None,
            "+8613800138000",
            "X1",
            "1 Main St",
            "Sydney",
            "NSW",
            "2000",
            "AU",
        ),
        (
            "web",
            "w1",
            "王伟",
            None,
            None,
            "M",
            born,
            "a@x.com",
            None,
            None,
            None,
            "北京",
            None,
            None,
            None,
        ),
    ]


def test_source_links_lists_each_configured_source_and_its_customers_source(wh: Warehouse) -> None:
    params = {"sources": ["crm", "payments", "game"], "customer_sources": [None, "crm", "crm"]}
    assert wh.build("core.source_links", "core/source_links", params) == 3
    assert wh.rows("select * from core.source_links") == [("crm", None), ("payments", "crm"), ("game", "crm")]
    assert wh.rows("select column_type from (describe core.source_links)") == [("VARCHAR",), ("VARCHAR",)]
    # a config whose sources point nowhere: the column is still text
    assert (
        wh.build("core.source_links", "core/source_links", {"sources": ["crm"], "customer_sources": [None]})
        == 1
    )
    assert wh.rows("select column_type from (describe core.source_links)") == [("VARCHAR",), ("VARCHAR",)]

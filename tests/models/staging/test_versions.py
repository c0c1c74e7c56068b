"""Model tests of the customer versions in staging: ranking a batch against staged versions, and their validity."""

from __future__ import annotations

from datetime import datetime

from tasks.extract import create_tables
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SHANGHAI, create, stage

JAN, MAR, MAY = (datetime(2026, month, 5, 10, tzinfo=SHANGHAI) for month in (1, 3, 5))


def test_version_validity_runs_to_the_next_version(wh: Warehouse) -> None:
    create_tables(wh)
    stage(
        wh,
        "customers",
        [
            # arrival order (file names) differs from version order
            {
                "source": "crm",
                "_file": "a.csv",
                "_row": 1,
                "source_id": "m1",
                "email": "may",
                "valid_from": MAY,
            },
            {
                "source": "crm",
                "_file": "b.csv",
                "_row": 1,
                "source_id": "m1",
                "email": "jan",
                "valid_from": JAN,
            },
            {
                "source": "crm",
                "_file": "c.csv",
                "_row": 1,
                "source_id": "m1",
                "email": "mar",
                "valid_from": MAR,
            },
            # the same instant twice: the first by file gets an empty interval
            {
                "source": "crm",
                "_file": "a.csv",
                "_row": 2,
                "source_id": "m2",
                "email": "x",
                "valid_from": JAN,
            },
            {
                "source": "crm",
                "_file": "b.csv",
                "_row": 2,
                "source_id": "m2",
                "email": "y",
                "valid_from": JAN,
            },
            # another source's record with the same id is another record
            {
                "source": "web",
                "_file": "w.csv",
                "_row": 1,
                "source_id": "m1",
                "email": "w",
                "valid_from": JAN,
            },
        ],
    )
    wh.run("staging/version_validity", {"source": "crm"}, fragments={"ids": "true"})
    assert wh.rows(
        "select source, source_id, email, valid_to from staging.customers order by 1, 2, valid_from, _file"
    ) == [
        ("crm", "m1", "jan", MAR),
        ("crm", "m1", "mar", MAY),
        ("crm", "m1", "may", None),
        ("crm", "m2", "x", JAN),
        ("crm", "m2", "y", None),
        ("web", "m1", "w", None),
    ]


def test_ranked_versions_drop_a_row_repeating_the_version_before_it(wh: Warehouse) -> None:
    create_tables(wh)
    stage(
        wh,
        "customers",
        [
            {
                "source": "crm",
                "_file": "a.csv",
                "_row": 1,
                "source_id": "m1",
                "email": "jan",
                "valid_from": JAN,
            },
            {
                "source": "crm",
                "_file": "a.csv",
                "_row": 2,
                "source_id": "m1",
                "email": "mar",
                "valid_from": MAR,
            },
        ],
    )
    # the batch: January's version again (a copy of the staged one), May's twice, and January's values in May
    columns = "_file varchar, _row bigint, source_id varchar, email varchar, _reason varchar, _id varchar"
    create(
        wh,
        "_checked",
        columns,
        [
            ("b.csv", 1, "m1", "jan", None, "m1"),
            ("b.csv", 2, "m1", "may", None, "m1"),
            ("c.csv", 1, "m1", "may", None, "m1"),
        ],
        temp=True,
    )
    create(
        wh,
        "_version_times",
        "_file varchar, _row bigint, _id varchar, version_time timestamptz",
        [("b.csv", 1, "m1", JAN), ("b.csv", 2, "m1", MAY), ("c.csv", 1, "m1", MAY)],
        temp=True,
    )
    # _checked holds two canonical fields here: the fingerprint of those (tasks.extract.staging.fingerprint_sql)
    fingerprint = "md5(concat_ws('|', source_id, email))"
    wh.build(
        "_ranked",
        "staging/ranked_versions",
        {"source": "crm"},
        temp=True,
        identifiers={"kind": "customers", "id_field": "source_id"},
        fragments={"fingerprint": fingerprint},
    )
    assert wh.rows("select _file, _row, first.file, first.row, same_values from _ranked order by 1, 2") == [
        ("b.csv", 1, "a.csv", 1, True),  # January's copy: the staged January version is kept
        ("c.csv", 1, "b.csv", 2, True),  # May's second copy points at the first
    ]

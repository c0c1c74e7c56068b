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
    staged = [("a.csv", 1, "jan", JAN), ("a.csv", 2, "mar", MAR)]
    stage(
        wh,
        "customers",
        [
            {
                "source": "crm",
                "_file": file,
                "_row": row,
                "source_id": "m1",
                "email": email,
                "updated_at": moment,
                "valid_from": moment,
            }
            for file, row, email, moment in staged
        ],
    )
    # the batch: January's version again (a copy of the staged one), May's twice, and March's time with other
    # values twice (a tie with the staged version: two conflicts); m2 twice at one time in two files, e.csv
    # arrived first
    columns = (
        "_file varchar, _row bigint, source_id varchar, email varchar, updated_at timestamptz, _reason varchar, "
        "_id varchar"
    )
    batch = [
        ("b.csv", 1, "m1", "jan", JAN),
        ("b.csv", 2, "m1", "may", MAY),
        ("c.csv", 1, "m1", "may", MAY),
        ("c.csv", 2, "m1", "mar-other", MAR),
        ("f.csv", 1, "m1", "mar-other", MAR),
        ("d.csv", 1, "m2", "d", MAY),
        ("e.csv", 1, "m2", "e", MAY),
    ]
    create(wh, "_checked", columns, [(*row, None, row[2]) for row in batch], temp=True)
    create(
        wh,
        "_version_times",
        "_file varchar, _row bigint, _id varchar, version_time timestamptz",
        [(file, row, source_id, moment) for file, row, source_id, _, moment in batch],
        temp=True,
    )
    create(
        wh,
        "_file_order",
        "_file varchar, arrived timestamptz",
        [("a.csv", JAN), ("e.csv", MAR), ("b.csv", None), ("c.csv", None), ("d.csv", None), ("f.csv", None)],
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
        ("c.csv", 2, "a.csv", 2, False),  # March's time with other values: the staged version is kept
        ("d.csv", 1, "e.csv", 1, False),  # a tie in the batch: the file that arrived first is kept
        ("f.csv", 1, "a.csv", 2, False),  # the same other values again: a conflict too, not a copy of c.csv's
    ]

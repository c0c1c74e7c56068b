"""Corpus cases of values through extract_all: local times, epoch times, non-finite numbers, money, guest rows.

The inputs are in tests/unit/extract/corpus/values/ (byte-exact, like the rest of the corpus); the cases
use test_corpus's runner and outcomes, and the tests after them what that runner does not look at
(unattributed rows, the config's amount_scale, the failing share of bad rows).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.extract import extract_all
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.unit.extract.test_corpus import (
    CORPUS,
    EVENTS,
    MAX_CORPUS_FILE,
    PAYMENTS,
    RUN_ID,
    SOURCE,
    Case,
    Loaded,
    Quarantined,
    make_config,
    run_case,
    utc,
)

VALUES = CORPUS / "values"


def copied(name: str) -> Callable[[Path], None]:
    """A Case.make that copies corpus/values/<name> to the case's input path."""
    return lambda target: shutil.copyfile(VALUES / name, target)


EVENT_NUMBERS = {
    **EVENTS,
    "format": "csv",
    "columns": {**EVENTS["columns"], "event_type": "'session'", "duration_s": "secs", "value": "stake"},
}
EPOCH = {
    **PAYMENTS,
    "timezone": "America/New_York",  # an epoch time is an instant: no time zone applies
    "columns": {**PAYMENTS["columns"], "ts": "to_timestamp(cast(epoch_s as bigint))"},
}
MONEY = ("txn_id", "cast(amount as varchar)", "currency")
CN_MONEY_STAGED = [
    (1, "T1", "1234.50", "CNY"),
    (2, "T2", "1234.50", "CNY"),
    (3, "T3", "1234.50", None),
    (4, "T4", "88.00", "CNY"),
    (5, "T5", "12.00", "USD"),
]

CASES: list[Case] = [
    Case(
        "local_times_of_any_layout_in_the_sources_zone",  # 2026/03/01 23:30 in New York was read as Shanghai time
        "new_york_local_times.csv",
        {**PAYMENTS, "timezone": "America/New_York"},
        Loaded(
            ("txn_id", "ts"),
            [
                (1, "T1", utc("2026-03-02 04:30:00")),
                (2, "T2", utc("2026-03-02 04:30:00")),
                (3, "T3", utc("2026-03-02 04:30:00")),
                (4, "T4", utc("2026-03-01 05:00:00")),
            ],
            (4, 4, 0, 0),
        ),
        make=copied("new_york_local_times.csv"),
    ),
    Case(
        "epoch_seconds",
        "epoch_times.csv",
        EPOCH,
        Loaded(
            ("txn_id", "ts"),
            [(1, "T1", utc("2026-03-01 23:30:00")), (2, "T2", utc("2026-03-01 23:30:01"))],
            (2, 2, 0, 0),
        ),
        make=copied("epoch_times.csv"),
    ),
    Case(
        "epoch_milliseconds",
        "epoch_times.csv",
        {
            **EPOCH,
            "columns": {**EPOCH["columns"], "ts": "timezone('UTC', epoch_ms(cast(epoch_ms as bigint)))"},
        },
        Loaded(
            ("txn_id", "ts"),
            [(1, "T1", utc("2026-03-01 23:30:00.123")), (2, "T2", utc("2026-03-01 23:30:01.999"))],
            (2, 2, 0, 0),
        ),
        make=copied("epoch_times.csv"),
    ),
    Case(
        "nonfinite_and_overflowing_numbers",  # staged, they crashed the segment stage on every later run
        "nonfinite_event_numbers.csv",
        EVENT_NUMBERS,
        Quarantined(
            ("event_id", "duration_s", "value"),
            [(1, "E1", 12.5, 1.0)],
            (7, 1, 6, 0),
            quarantine=[
                (2, "duration_s", "field duration_s: 'inf' is not a finite number"),
                (3, "duration_s", "field duration_s: 'NaN' is not a finite number"),
                (4, "duration_s", "field duration_s: '1e400' is not a finite number"),
                (5, "value", "field value: '-Infinity' is not a finite number"),
                (6, "value", "field value: '1e300' is out of range (beyond ±1e+15)"),
                (7, "ts", "field ts: '-infinity' is not a finite timestamp"),
            ],
        ),
        make=copied("nonfinite_event_numbers.csv"),
    ),
    Case(
        "session_durations_below_0_or_over_31_days",  # staged, they made features of -525,599 minutes
        "event_durations.csv",
        EVENT_NUMBERS,
        Quarantined(
            ("event_id", "duration_s", "value"),
            [(1, "E1", 600.0, 1.0), (3, "E3", 0.0, 1.0), (4, "E4", 2678400.0, 1.0)],
            (6, 3, 3, 0),
            quarantine=[
                (2, "duration_s", "field duration_s: '-3600' is negative: a duration is at least 0"),
                (
                    5,
                    "duration_s",
                    "field duration_s: '2678401' is more than 31 days (a stuck session, or milliseconds read as "
                    "seconds?)",
                ),
                (
                    6,
                    "duration_s",
                    "field duration_s: '1e12' is more than 31 days (a stuck session, or milliseconds read as seconds?)",
                ),
            ],
        ),
        make=copied("event_durations.csv"),
    ),
    Case(
        "amounts_as_chinese_business_systems_write_them",
        "cn_money_amounts.csv",
        PAYMENTS,
        Quarantined(
            MONEY,
            CN_MONEY_STAGED,
            (9, 5, 4, 0),
            quarantine=[
                (6, "amount", "field amount: '12.345' has more decimals than amount_scale 2"),
                (7, "amount", "field amount: '0.004' has more decimals than amount_scale 2"),
                (8, "amount", "field amount: '1_000' is not a valid decimal(18,2)"),
                (9, "amount", "field amount: '12,5' is not a valid decimal(18,2)"),
            ],
        ),
        make=copied("cn_money_amounts.csv"),
    ),
    Case(
        "amounts_with_amount_scale_three",
        "cn_money_amounts.csv",
        {**PAYMENTS, "amount_scale": 3},
        Quarantined(
            MONEY,
            [(r, t, f"{a}0", c) for r, t, a, c in CN_MONEY_STAGED]
            + [(6, "T6", "12.345", None), (7, "T7", "0.004", None)],
            (9, 7, 2, 0),
            quarantine=[
                (8, "amount", "field amount: '1_000' is not a valid decimal(19,3)"),
                (9, "amount", "field amount: '12,5' is not a valid decimal(19,3)"),
            ],
        ),
        make=copied("cn_money_amounts.csv"),
    ),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_corpus_values_case(case: Case, tmp_path: Path) -> None:
    run_case(case, tmp_path.resolve())


def test_every_values_file_has_a_case_and_is_small() -> None:
    committed = {p.name for p in VALUES.iterdir() if p.is_file()}
    assert committed == {case.file for case in CASES} | {"guest_purchases.csv"}
    assert all((VALUES / name).stat().st_size <= MAX_CORPUS_FILE for name in committed)


RETAIL = {
    "name": SOURCE,
    "kind": "transactions",
    "format": "csv",
    "path": "guest_purchases.csv",
    "columns": {
        "txn_id": "InvoiceNo || '-' || StockCode",
        "order_id": "InvoiceNo",
        "customer_ref": "regexp_replace(CustomerID, '[.]0$', '')",
        "amount": "Quantity * UnitPrice",
        "ts": "strptime(InvoiceDate, '%m/%d/%Y %H:%M')",
    },
}


def retail_config(folder: Path, **pipeline: Any) -> Path:
    """A config over guest_purchases.csv (Online Retail's shape) with the default max_bad_row_share."""
    shutil.copyfile(VALUES / "guest_purchases.csv", folder / "guest_purchases.csv")
    path = folder / "pipeline.yaml"
    data = {"warehouse": "w.duckdb", "sources": [RETAIL], **pipeline}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_guest_purchases_are_unattributed_not_bad_rows(tmp_path: Path) -> None:
    # 2 of 8 rows have no CustomerID: 25%, far above the default 5% of bad rows that fails a run
    config = load_config(retail_config(tmp_path))
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        [load] = extract_all(wh, config, RUN_ID)
        assert (load.rows_read, load.rows_staged, load.rows_quarantined, load.duplicates_dropped) == (
            8,
            8,
            0,
            0,
        )
        assert wh.rows("select count(*) from audit.quarantine") == [(0,)]
        assert load.rows_unattributed == 2  # of the 8 staged
        assert wh.rows(
            "select rows_read, rows_staged, rows_quarantined, duplicates_dropped, rows_unattributed "
            "from audit.load_audit"
        ) == [(8, 8, 0, 0, 2)]
        assert wh.rows("select rows_staged, rows_unattributed from audit.extract_log") == [(8, 2)]
        assert wh.rows("select _row, txn_id, customer_ref from staging.transactions order by _row") == [
            (1, "536365-85123A", "17850"),
            (2, "536365-71053", "17850"),
            (3, "536366-22633", "17850"),
            (6, "536367-84879", "13047"),
            (7, "536367-22745", "13047"),
            (8, "536370-22728", "12583"),
        ]
        # kept, typed and queryable, apart from the rows dedupe attributes to customers
        assert wh.rows(
            "select source, _file, _row, txn_id, order_id, amount from staging.unattributed_transactions order by _row"
        ) == [
            (SOURCE, "guest_purchases.csv", 4, "536544-21773", "536544", Decimal("2.51")),
            (SOURCE, "guest_purchases.csv", 5, "536544-21774", "536544", Decimal("5.02")),
        ]


def test_a_guest_purchase_repeated_is_dropped_as_a_copy_and_one_with_other_values_is_a_conflict(
    tmp_path: Path,
) -> None:
    path = retail_config(tmp_path)
    glob = yaml.safe_load(path.read_text(encoding="utf-8"))
    glob["sources"][0] |= {"path": "guest_*.csv", "max_bad_row_share": 0.5}
    path.write_text(yaml.safe_dump(glob, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "guest_purchases.csv"
    # row 9 repeats guest row 4 exactly
    data.write_text(
        data.read_text(encoding="utf-8") + "536544,21773,1,12/1/2010 14:32,2.51,\n", encoding="utf-8"
    )
    config = load_config(path)
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        [load] = extract_all(wh, config, "run-1")
        assert (load.rows_read, load.rows_staged, load.rows_unattributed, load.duplicates_dropped) == (
            9,
            8,
            2,
            1,
        )
        assert wh.rows("select file, row_number, id, kept_file, kept_row_number from audit.duplicates") == [
            ("guest_purchases.csv", 9, "536544-21773", "guest_purchases.csv", 4)
        ]
        # a later file: guest row 5 again (a copy), and guest row 4's id with another quantity (a conflict)
        (tmp_path / "guest_more.csv").write_text(
            "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
            "536544,21774,2,12/1/2010 14:32,2.51,\n536544,21773,3,12/1/2010 14:32,2.51,\n",
            encoding="utf-8",
        )
        [load] = extract_all(wh, config, "run-2")
        assert (load.rows_read, load.rows_staged, load.rows_quarantined, load.duplicates_dropped) == (
            2,
            0,
            1,
            1,
        )
        assert wh.rows("select file, row_number, reason from audit.quarantine") == [
            (
                "guest_more.csv",
                2,
                "duplicate txn_id '536544-21773' with other values than guest_purchases.csv row 4",
            )
        ]
        assert wh.rows("select _row, txn_id from staging.unattributed_transactions order by _row") == [
            (4, "536544-21773"),
            (5, "536544-21774"),
        ]


def test_unattributed_rows_follow_their_file_changed_restaged_or_removed(tmp_path: Path) -> None:
    path = retail_config(tmp_path)
    config = load_config(path)
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        extract_all(wh, config, "run-1")
        data = tmp_path / "guest_purchases.csv"
        lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
        data.write_text("".join(lines[:5]), encoding="utf-8")  # the file now ends with its first guest row
        extract_all(wh, config, "run-2")
        assert wh.rows("select _row, txn_id from staging.unattributed_transactions") == [(4, "536544-21773")]
        # a changed mapping re-stages every raw row: the unattributed row once, not twice
        changed = yaml.safe_load(path.read_text(encoding="utf-8"))
        changed["sources"][0]["columns"]["order_id"] = "'O' || InvoiceNo"
        path.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
        extract_all(wh, load_config(path), "run-3")
        assert wh.rows("select _row, order_id from staging.unattributed_transactions") == [(4, "O536544")]


def test_a_removed_file_takes_its_unattributed_rows_along(tmp_path: Path) -> None:
    path = retail_config(tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["sources"][0]["path"] = "*.csv"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    header = (tmp_path / "guest_purchases.csv").read_text(encoding="utf-8").splitlines(keepends=True)[0]
    (tmp_path / "members_only.csv").write_text(
        header + "536999,22728,1,12/2/2010 9:00,3.75,12583.0\n", encoding="utf-8"
    )
    config = load_config(path)
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        extract_all(wh, config, "run-1")
        assert wh.rows("select count(*) from staging.unattributed_transactions") == [(2,)]
        (tmp_path / "guest_purchases.csv").unlink()
        [load] = extract_all(wh, config, "run-2")
        assert load.status == "removed"  # nothing read: only a removal
        assert wh.rows("select count(*) from staging.unattributed_transactions") == [(0,)]


def test_rows_with_other_faults_still_count_as_bad(tmp_path: Path) -> None:
    config_path = retail_config(tmp_path)
    data = tmp_path / "guest_purchases.csv"
    data.write_text(data.read_text(encoding="utf-8").replace("2.51,\n", "x,\n"), encoding="utf-8")
    with (
        Warehouse(":memory:") as wh,
        pytest.raises(Exception, match=re.escape("2 of 8 rows (25.0%) failed checks")),
    ):
        extract_all(wh, load_config(config_path), RUN_ID)


def test_the_pipelines_amount_scale_applies_to_sources_without_their_own(tmp_path: Path) -> None:
    config = make_config(tmp_path, [{"name": SOURCE, "path": "x.csv", **PAYMENTS}])
    assert config.sources[0].amount_scale == 2
    path = retail_config(tmp_path, amount_scale=3)
    config = load_config(path)
    assert config.sources[0].amount_scale == 3
    with Warehouse(":memory:", timezone=config.timezone) as wh:
        extract_all(wh, config, RUN_ID)
        assert wh.rows(
            "select column_type from (describe staging.transactions) where column_name = 'amount'"
        ) == [("DECIMAL(19,3)",)]

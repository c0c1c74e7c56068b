"""An amount no customer paid: quarantined beyond the source's max_amount, else named in a warning when it is over
1,000 times the source's median."""

from pathlib import Path

import pytest

from tasks.extract import SourceLoad
from tasks.extract.load_state import source_fingerprint
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.sources import PAY_CSV, extract_once, write_config

HEADER = "txn_id,member_id,amount,ts\n"
# The fingerprint at f277eb9, before max_amount existed, of PAY_CSV with its member id mapped as phone (a
# customer_ref is hashed with the rule that a placeholder is none, a fact with the rule that the Unix epoch is a
# placeholder time, and every source with the rule of the characters of its ids, since)
FINGERPRINT = "6bd4334850c029e0"


def write_payments(folder: Path, name: str, amounts: list[str]) -> None:
    (folder / "pay").mkdir(exist_ok=True)
    lines = [f"T{name}{n},M{n % 7},{amount},2026-03-01 10:00:00\n" for n, amount in enumerate(amounts, 1)]
    (folder / "pay" / f"{name}.csv").write_text(HEADER + "".join(lines), encoding="utf-8")


def staged(config: Path, sql: str) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows(sql)


def test_an_amount_beyond_max_amount_either_sign_is_quarantined(tmp_path: Path) -> None:
    write_payments(tmp_path, "a", ["10.00", "-600.00", "500.00", "1e15", "-500"])
    config = write_config(tmp_path, [{**PAY_CSV, "max_amount": 500}])
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 1, 1, 5, 3, 2, 0, "loaded")]
    assert staged(config, "select txn_id, amount::varchar from staging.transactions order by txn_id") == [
        ("Ta1", "10.00"),
        ("Ta3", "500.00"),
        ("Ta5", "-500.00"),
    ]
    assert staged(config, "select row_number, reason from audit.quarantine order by row_number") == [
        (2, "field amount: -600.00 is beyond the source's max_amount 500"),
        (4, "field amount: 1000000000000000.00 is beyond the source's max_amount 500"),
    ]


def test_amounts_far_over_the_median_are_named_and_a_source_without_max_amount_keeps_its_fingerprint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, [PAY_CSV])
    caplog.set_level("WARNING", logger="tasks.extract")
    write_payments(tmp_path, "a", ["20.00", "30.00"] * 49 + ["30000.00"])  # 99 amounts: too few to judge
    extract_once(config, "run-1")
    assert [r.getMessage() for r in caplog.records if "median" in r.getMessage()] == []

    # the median of 104 staged amounts is 30.00; over 30,000.00 is named, the first three by size
    write_payments(tmp_path, "b", ["30000.01", "-1e15", "9999999999999999.99", "30000.00", "31000"])
    extract_once(config, "run-2")
    assert [r.getMessage() for r in caplog.records if "median" in r.getMessage()] == [
        "source pay: 4 amounts over 1,000 times its median amount (30.00), staged: pay/b.csv row 3: "
        "9,999,999,999,999,999.99, pay/b.csv row 2: -1,000,000,000,000,000.00, pay/b.csv row 5: 31,000.00 …; if no "
        "customer paid these, set the source's max_amount to quarantine larger amounts"
    ]
    assert staged(config, "select count(*) from staging.transactions") == [(104,)]

    # a config that does not set max_amount hashes as before the option existed (no re-stage on upgrade)
    by_phone = {
        **PAY_CSV,
        "columns": {"txn_id": "txn_id", "phone": "member_id", "amount": "amount", "ts": "ts"},
    }
    pipeline = load_config(write_config(tmp_path, [by_phone]))
    assert source_fingerprint(pipeline, pipeline.sources[0]) == FINGERPRINT

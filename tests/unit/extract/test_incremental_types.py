"""Files of one source whose column types differ: raw keeps every file's values, never cast into the first file's type."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tasks.extract.raw import DOUBLE_IF_EXACT, widened_type
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.sources import PAY_CSV, extract_once, write_config

SHOP = {**PAY_CSV, "name": "shop", "format": "parquet", "path": "shop/*.parquet"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write_parquet(folder: Path, name: str, frame: pl.DataFrame) -> None:
    (folder / "shop").mkdir(exist_ok=True)
    frame.write_parquet(folder / "shop" / name)


def first_file(folder: Path) -> None:
    """An integer amount and a zoneless TIMESTAMP (local time in the pipeline's zone, Asia/Shanghai)."""
    write_parquet(
        folder,
        "a.parquet",
        pl.DataFrame(
            {
                "txn_id": ["T1"],
                "member_id": ["M1"],
                "amount": pl.Series([12], dtype=pl.Int64),
                "ts": [datetime(2026, 3, 1, 10, 0)],
            }
        ),
    )


def second_file(folder: Path) -> None:
    """A floating-point amount and the time as text with an offset (Z)."""
    write_parquet(
        folder,
        "b.parquet",
        pl.DataFrame(
            {
                "txn_id": ["T2", "T3"],
                "member_id": ["M1", "M2"],
                "amount": [12.5, 7.25],
                "ts": ["2026-03-01T11:00:00Z", "2026-03-01T12:30:00+08:00"],
            }
        ),
    )


STAGED = [
    ("T1", Decimal("12.00"), utc("2026-03-01 02:00:00")),
    ("T2", Decimal("12.50"), utc("2026-03-01 11:00:00")),
    ("T3", Decimal("7.25"), utc("2026-03-01 04:30:00")),
]


def staged(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select txn_id, amount, ts from staging.transactions order by txn_id")


def raw_values(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select txn_id, amount, ts from raw.shop order by txn_id")


@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_parquet_files_whose_types_differ_keep_their_values(tmp_path: Path, runs: str) -> None:
    config = write_config(tmp_path, [SHOP])
    first_file(tmp_path)
    if runs == "two runs":
        extract_once(config, "run-1")
    second_file(tmp_path)
    extract_once(config, "run-2")
    # 12.5 was staged as 12.00 and 7.25 as 7.00 (cast to the first file's BIGINT); the text with Z
    # was cast to the first file's TIMESTAMP, dropping its offset: read as Shanghai time, 8 hours early
    assert staged(config) == STAGED
    # raw: the amounts as DOUBLE (every integer fits exactly), the times as text: the zoneless one
    # stays zoneless (staging reads it in the source's zone), the others keep their offsets
    assert raw_values(config) == [
        ("T1", 12.0, "2026-03-01 10:00:00"),
        ("T2", 12.5, "2026-03-01T11:00:00Z"),
        ("T3", 7.25, "2026-03-01T12:30:00+08:00"),
    ]


def test_a_restage_reads_the_widened_raw_columns_the_same_way(tmp_path: Path) -> None:
    config = write_config(tmp_path, [SHOP])
    first_file(tmp_path)
    extract_once(config, "run-1")
    second_file(tmp_path)
    extract_once(config, "run-2")
    text = config.read_text(encoding="utf-8").replace("amount: amount", "amount: amount + 0")
    config.write_text(text, encoding="utf-8")
    assert extract_once(config, "run-3")[0].status == "restaged"
    assert staged(config) == STAGED


def test_integers_a_double_cannot_hold_are_kept_as_text(tmp_path: Path) -> None:
    config = write_config(tmp_path, [SHOP | {"columns": {**SHOP["columns"], "amount": "amount / 100"}}])
    big = 2**53 + 1  # the smallest integer a DOUBLE does not hold
    write_parquet(
        tmp_path,
        "a.parquet",
        pl.DataFrame({"txn_id": ["T1"], "member_id": ["M1"], "amount": [big], "ts": ["2026-03-01 10:00"]}),
    )
    extract_once(config, "run-1")
    write_parquet(
        tmp_path,
        "b.parquet",
        pl.DataFrame({"txn_id": ["T2"], "member_id": ["M1"], "amount": [0.5], "ts": ["2026-03-01 10:00"]}),
    )
    extract_once(config, "run-2")
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select txn_id, amount from raw.shop order by txn_id") == [
            ("T1", str(big)),
            ("T2", "0.5"),
        ]


def test_a_first_file_without_rows_does_not_hide_the_next_files_rows(tmp_path: Path) -> None:
    """raw is defined by a column list: DuckDB 2.0 hides rows batch-inserted into a table created from an empty select."""
    (tmp_path / "pay").mkdir()
    (tmp_path / "pay" / "a.csv").write_text("txn_id,member_id,amount,ts\n", encoding="utf-8")
    rows = 130_000
    lines = (f"T{i},M{i % 1000},{i % 97}.5,2026-03-01 10:00:00\n" for i in range(rows))
    (tmp_path / "pay" / "b.csv").write_text("txn_id,member_id,amount,ts\n" + "".join(lines), encoding="utf-8")
    source = SHOP | {"name": "pay", "format": "csv", "path": "pay/*.csv"}
    config = write_config(tmp_path, [source])
    load = extract_once(config, "run-1")[0]
    assert (load.rows_read, load.rows_staged) == (rows, rows)
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.scalar("select count(*) from staging.transactions") == rows


def social_source(customer_ref: str) -> dict:
    """A JSON Lines events source under social/ (id, ts) whose customer_ref is the given field."""
    return {
        "name": "social",
        "kind": "events",
        "format": "jsonl",
        "path": "social/*.jsonl",
        "columns": {"event_id": "id", "customer_ref": customer_ref, "ts": "ts"},
    }


def test_a_jsonl_field_that_turns_to_text_after_duckdbs_type_sample_keeps_every_value(tmp_path: Path) -> None:
    """DuckDB types a JSON field from the first 20,480 lines: a number there and text on line 25,001 failed the read."""
    (tmp_path / "social").mkdir()
    lines = [f'{{"id": {i}, "member": "M{i % 100}", "ts": "2026-03-01 10:00:00"}}\n' for i in range(25_000)]
    lines.append('{"id": "E-25001", "member": "M1", "ts": "2026-03-01 11:00:00"}\n')
    (tmp_path / "social" / "a.jsonl").write_text("".join(lines), encoding="utf-8")
    config = write_config(tmp_path, [social_source("member")])
    load = extract_once(config, "run-1")[0]
    assert (load.rows_read, load.rows_staged, load.rows_quarantined) == (25_001, 25_001, 0)
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select column_type from (describe raw.social) where column_name = 'id'") == [
            ("JSON",)
        ]
        assert wh.rows(
            "select _row, event_id from staging.events where _row in (1, 25000, 25001) order by _row"
        ) == [(1, "0"), (25_000, "24999"), (25_001, "E-25001")]


@pytest.mark.parametrize("order", ["text first", "mixed first"])
def test_a_nested_field_that_is_text_in_one_file_and_mixed_in_another_keeps_every_value(
    tmp_path: Path, order: str
) -> None:
    """user.member_id text in one file, a number and text in the next: raw's struct field becomes JSON. The widening
    cast the text 'M1' as JSON and failed, naming the first file (fault injection)."""
    (tmp_path / "social").mkdir()
    text = '{"id": "E1", "user": {"member": "M1"}, "ts": "2026-03-01 10:00:00"}\n'
    mixed = (
        '{"id": "E2", "user": {"member": 12}, "ts": "2026-03-01 11:00:00"}\n'
        '{"id": "E3", "user": {"member": "M3"}, "ts": "2026-03-01 12:00:00"}\n'
    )
    first, second = (text, mixed) if order == "text first" else (mixed, text)
    config = write_config(tmp_path, [social_source("user.member")])
    (tmp_path / "social" / "a.jsonl").write_text(first, encoding="utf-8")
    extract_once(config, "run-1")
    (tmp_path / "social" / "b.jsonl").write_text(second, encoding="utf-8")
    extract_once(config, "run-2")
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select column_type from (describe raw.social) where column_name = 'user'") == [
            ("STRUCT(member JSON)",)
        ]
        assert wh.rows("select event_id, customer_ref from staging.events order by event_id") == [
            ("E1", "M1"),
            ("E2", "12"),
            ("E3", "M3"),
        ]


@pytest.mark.parametrize(
    ("first", "second", "widened"),
    [
        ("BIGINT", "BIGINT", "BIGINT"),
        ("INTEGER", "BIGINT", "BIGINT"),
        ("UINTEGER", "INTEGER", "BIGINT"),
        ("UBIGINT", "BIGINT", "HUGEINT"),
        ("INTEGER", "DOUBLE", "DOUBLE"),
        ("BIGINT", "DOUBLE", DOUBLE_IF_EXACT),
        ("FLOAT", "DOUBLE", "DOUBLE"),
        ("DECIMAL(18,2)", "BIGINT", "DECIMAL(21,2)"),
        ("DECIMAL(10,2)", "DECIMAL(12,4)", "DECIMAL(12,4)"),
        ("DECIMAL(12,2)", "DOUBLE", "DOUBLE"),
        ("DECIMAL(18,2)", "DOUBLE", "VARCHAR"),
        ("DATE", "TIMESTAMP", "TIMESTAMP"),
        ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "VARCHAR"),
        ("TIMESTAMP WITH TIME ZONE", "VARCHAR", "VARCHAR"),
        ("BOOLEAN", "BIGINT", "VARCHAR"),
        ("VARCHAR", "JSON", "JSON"),
        ("STRUCT(id BIGINT)", "STRUCT(id VARCHAR, tier VARCHAR)", "STRUCT(id VARCHAR, tier VARCHAR)"),
        ("STRUCT(id BIGINT)", "VARCHAR", "JSON"),
        ("STRUCT(id BIGINT)", "BIGINT[]", "JSON"),
    ],
)
def test_widened_type_holds_both_types_exactly(first: str, second: str, widened: str) -> None:
    assert widened_type(first, second) == widened
    assert widened_type(second, first) == widened


def test_a_field_that_is_an_object_in_one_file_and_text_in_another_is_named_and_both_shapes_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An API that sends a customer's id, or the customer expanded (Stripe's `customer`): `user.member` was null on
    the rows whose user is text, which were staged unattributed without a word (fault injection)."""
    (tmp_path / "social").mkdir()
    (tmp_path / "social" / "a.jsonl").write_text(
        '{"id": "E1", "user": {"member": "M1"}, "ts": "2026-03-01 10:00:00"}\n', encoding="utf-8"
    )
    config = write_config(tmp_path, [social_source("user.member")])
    extract_once(config, "run-1")
    (tmp_path / "social" / "b.jsonl").write_text(
        '{"id": "E2", "user": "M2", "ts": "2026-03-01 11:00:00"}\n'
        '{"id": "E3", "user": "M3", "ts": "2026-03-01 12:00:00"}\n'
        '{"id": "E4", "user": {"member": "M4"}, "ts": "2026-03-01 13:00:00"}\n',
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        extract_once(config, "run-2")
    assert [r.getMessage() for r in caplog.records if "not an object" in r.getMessage()] == [
        'source social: field customer_ref: 2 rows hold user as VARCHAR, not an object (e.g. "M2"): user.member is '
        "null on them; read both shapes with coalesce(json_extract_string(user, '$.member'), json_extract_string(user, '$'))"
    ]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        # E2 and E3 are unattributed: no customer of theirs is known
        assert wh.rows("select event_id, customer_ref from staging.events order by event_id") == [
            ("E1", "M1"),
            ("E4", "M4"),
        ]
    both = write_config(
        tmp_path,
        [social_source("coalesce(json_extract_string(user, '$.member'), json_extract_string(user, '$'))")],
    )
    caplog.clear()
    with caplog.at_level("WARNING"):
        extract_once(both, "run-3")
    assert not [r for r in caplog.records if "not an object" in r.getMessage()]
    with Warehouse.open(load_config(both), read_only=True) as wh:
        assert wh.rows("select event_id, customer_ref from staging.events order by event_id") == [
            ("E1", "M1"),
            ("E2", "M2"),
            ("E3", "M3"),
            ("E4", "M4"),
        ]

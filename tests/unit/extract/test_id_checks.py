"""An id with a control character in it is quarantined with the reason, never staged as another id; a customer_ref
that is a placeholder names nobody."""

from pathlib import Path

from tasks.extract import SourceLoad
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.sources import PAY_CSV, extract_once, write_config


def test_an_id_with_a_control_character_is_quarantined(tmp_path: Path) -> None:
    folder = tmp_path / "pay"
    folder.mkdir()
    (folder / "a.csv").write_bytes(
        b"txn_id,member_id,amount,ts\n"
        b"T1,M1,10.00,2026-03-01 10:00:00\n"
        b"T2,M0\x0013,20.00,2026-03-01 11:00:00\n"  # a NUL byte a broken export left in the cell
        b'T3,"M3\t",30.00,2026-03-01 12:00:00\n'  # a tab
        b"T\x074,M4,40.00,2026-03-01 13:00:00\n"  # a bell in the row's own id
        b"T5,M5 ,50.00,2026-03-01 14:00:00\n"  # a space is no control character
    )
    config = write_config(tmp_path, [PAY_CSV])
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 1, 1, 5, 2, 3, 0, "loaded")]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select txn_id, customer_ref from staging.transactions order by txn_id") == [
            ("T1", "M1"),
            ("T5", "M5"),
        ]
        assert wh.rows("select row_number, reason from audit.quarantine order by row_number") == [
            (
                2,
                "field customer_ref: 'M0\ufffd13' holds a control character (U+0000): an id is never typed with one",
            ),
            (
                3,
                "field customer_ref: 'M3\ufffd' holds a control character (U+0009): an id is never typed with one",
            ),
            (4, "field txn_id: 'T\ufffd4' holds a control character (U+0007): an id is never typed with one"),
        ]


def test_an_id_with_an_invisible_character_is_quarantined_and_its_repeat_is_not_counted_twice(
    tmp_path: Path,
) -> None:
    """Zero-width space, word joiner, a byte order mark in the middle of concatenated exports, a soft hyphen."""
    folder = tmp_path / "pay"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "txn_id,member_id,amount,ts\n"
        "T1,M1\u200b,10.00,2026-03-01 10:00:00\n"
        "T2,M2\u2060,20.00,2026-03-01 11:00:00\n"
        "\ufeffT3,M3,30.00,2026-03-01 12:00:00\n"
        "T4,M\u00ad4,40.00,2026-03-01 13:00:00\n"
        "T5,\u200bM5\u0007,50.00,2026-03-01 14:00:00\n"
        "T6,M6\U000e0041,60.00,2026-03-01 15:00:00\n"  # a tag character, past U+FFFF
        "T7,M7\u0085,70.00,2026-03-01 16:00:00\n",  # a C1 control (next line)
        encoding="utf-8",
    )
    (folder / "b.csv").write_text(
        "txn_id,member_id,amount,ts\nT3,M3,30.00,2026-03-01 12:00:00\n", encoding="utf-8"
    )
    config = write_config(tmp_path, [PAY_CSV])
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 2, 2, 8, 1, 7, 0, "loaded")]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select txn_id, customer_ref, amount from staging.transactions") == [("T3", "M3", 30)]
        assert wh.rows("select file, row_number, reason from audit.quarantine order by file, row_number") == [
            (
                "pay/a.csv",
                1,
                "field customer_ref: 'M1\ufffd' holds an invisible character (U+200B): an id is never typed with one",
            ),
            (
                "pay/a.csv",
                2,
                "field customer_ref: 'M2\ufffd' holds an invisible character (U+2060): an id is never typed with one",
            ),
            (
                "pay/a.csv",
                3,
                "field txn_id: '\ufffdT3' holds an invisible character (U+FEFF): an id is never typed with one",
            ),
            (
                "pay/a.csv",
                4,
                "field customer_ref: 'M\ufffd4' holds an invisible character (U+00AD): an id is never typed with one",
            ),
            (
                "pay/a.csv",
                5,
                "field customer_ref: '\ufffdM5\ufffd' holds an invisible character (U+200B): an id is never typed with one",
            ),
            (
                "pay/a.csv",
                6,
                "field customer_ref: 'M6\ufffd' holds an invisible character (U+E0041): an id is never typed with one",
            ),
            (
                "pay/a.csv",
                7,
                "field customer_ref: 'M7\ufffd' holds a control character (U+0085): an id is never typed with one",
            ),
        ]


def test_a_placeholder_customer_ref_names_nobody(tmp_path: Path) -> None:
    """'NULL' as a SQL client exports a null, a guest's 0, '未知': rows that say it are not one customer's."""
    folder = tmp_path / "pay"
    folder.mkdir()
    (folder / "a.csv").write_text(
        "txn_id,member_id,phone,amount,ts\n"
        "T1,NULL,,10.00,2026-03-01 10:00:00\n"
        "T2,null,,20.00,2026-03-01 11:00:00\n"
        "T3,0,,30.00,2026-03-01 12:00:00\n"
        "T4,未知,,40.00,2026-03-01 13:00:00\n"
        "T5,NULL,13800138001,50.00,2026-03-01 14:00:00\n"  # the phone says whose it is
        "T6,M6,,60.00,2026-03-01 15:00:00\n"
        "T7,NULLS,,70.00,2026-03-01 16:00:00\n",  # an id that only begins like one
        encoding="utf-8",
    )
    source = {**PAY_CSV, "columns": {**PAY_CSV["columns"], "phone": "phone"}}
    config = write_config(tmp_path, [source])
    assert extract_once(config, "run-1") == [SourceLoad("pay", "transactions", 1, 1, 7, 7, 0, 0, "loaded", 4)]
    with Warehouse.open(load_config(config), read_only=True) as wh:
        assert wh.rows("select txn_id, customer_ref, phone from staging.transactions order by txn_id") == [
            ("T5", None, "13800138001"),
            ("T6", "M6", None),
            ("T7", "NULLS", None),
        ]
        assert wh.rows(
            "select txn_id, customer_ref from staging.unattributed_transactions order by txn_id"
        ) == [
            ("T1", None),
            ("T2", None),
            ("T3", None),
            ("T4", None),
        ]

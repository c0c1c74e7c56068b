"""Every erasure model (sql/ops/erase/) run on two people: A is erased, B's rows look like A's but for the key.

B's rows share what a badly scoped predicate would catch: the same file and row number in another
source, the same source_id in another source, the same city, a text column holding A's member id, a
shared phone. Each model must touch A's rows only. A model added to sql/ops/erase/ without a test
here fails test_every_erasure_model_is_tested; one with an unqualified column name fails the lint.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from tasks.extract import create_tables
from tasks.extract.erased import collect_raw_keys
from tasks.extract.staging import kept_sql
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import record_key, sha256_hex
from tasks.shared.warehouse import SQL_DIR, Warehouse
from tests.conftest import REPO
from tests.models.erase.qualified import unqualified_columns
from tests.models.helpers import create, stage

ERASE_MODELS = SQL_DIR / "ops" / "erase"
LINTED = [*sorted(ERASE_MODELS.rglob("*.sql")), SQL_DIR / "staging" / "erased_rows.sql"]
A1, A2, B1, B2 = "Ca000000000000001", "Ca000000000000002", "Cb000000000000001", "Cb000000000000002"
A_RECORDS = [("crm", "1"), ("crm", "3")]  # crm:3 is in the identity state only (a backfill rebuilt the map)
A_LINEAGE = [("crm", "crm.csv", 1), ("pay", "pay.csv", 1)]


@pytest.fixture
def wh() -> Iterator[Warehouse]:
    """Two people, A (ids A1, A2 merged into A1) and B (B1, B2 merged into B1), and the scratch tables of A."""
    with Warehouse(":memory:") as warehouse:
        two_people(warehouse)
        yield warehouse


def two_people(wh: Warehouse) -> None:
    create_tables(wh)
    create(
        wh,
        "raw.crm",
        "_source varchar, _file varchar, _row bigint, id varchar, amount varchar",
        [
            ("crm", "crm.csv", 1, "1", None),
            ("crm", "crm.csv", 2, "2", "1"),  # B: a text column holding A's member id
            ("crm", "crm.csv", 3, "1", None),  # A: quarantined
        ],
    )
    customers = [
        {
            "source": "crm",
            "_file": "crm.csv",
            "_row": 1,
            "source_id": "1",
            "full_name": "A名",
            "city": "杭州",
            "email": "a@x.cn",
            "phone": "13900000001",
        },
        {
            "source": "crm",
            "_file": "crm.csv",
            "_row": 2,
            "source_id": "2",
            "full_name": "B名",
            "city": "杭州",
            "email": "b@x.cn",
            "phone": "13900000009",
        },
        # B's record in another source: A's file and row number, A's source_id
        {
            "source": "web",
            "_file": "crm.csv",
            "_row": 1,
            "source_id": "1",
            "full_name": "W名",
            "city": "杭州",
            "phone": "13900000009",
        },
    ]
    stage(wh, "customers", customers)
    stage(
        wh,
        "transactions",
        [
            {
                "source": "pay",
                "_file": "pay.csv",
                "_row": 1,
                "txn_id": "T1",
                "customer_ref": "1",
                "device_id": "D1",
            },
            {
                "source": "pay",
                "_file": "pay.csv",
                "_row": 2,
                "txn_id": "T2",
                "customer_ref": "2",
                "device_id": "D2",
            },
            {
                "source": "shop",
                "_file": "pay.csv",
                "_row": 1,
                "txn_id": "T1",
                "customer_ref": "1",
                "device_id": "D2",
            },
        ],
    )
    create(
        wh,
        "core.transactions",
        "source varchar, _file varchar, _row bigint, record_source varchar, record_id varchar",
        [
            ("pay", "pay.csv", 1, "crm", "1"),
            ("pay", "pay.csv", 2, "crm", "2"),
            ("shop", "pay.csv", 1, "web", "1"),  # shop points into web: its member 1 is B
        ],
    )
    wh.con.executemany(
        "insert into audit.quarantine values (?, ?, ?, ?, ?, ?, ?)",
        [
            ("r", "crm", "crm.csv", 3, None, "why", '{"id": "1"}'),
            ("r", "pay", "crm.csv", 3, None, "why", '{"member": "2", "amount": "1"}'),
            ("r", "crm", "other.csv", 3, None, "why", '{"id": "2"}'),
        ],
    )
    wh.con.executemany(
        "insert into audit.duplicates values (?, ?, ?, ?, ?, ?, ?)",
        [
            ("r", "crm", "crm.csv", 4, "1", "crm.csv", 1),  # A's copy
            ("r", "pay", "pay.csv", 4, "T2", "pay.csv", 2),
            ("r", "web", "crm.csv", 5, "1", "crm.csv", 1),  # B's copy of a row at A's file and row, in web
            ("r", "pay", "crm.csv", 1, "T9", "pay.csv", 2),  # B's copy, dropped at A's file and row number
        ],
    )
    create(
        wh,
        "core.customer_records",
        "source varchar, source_id varchar, _file varchar, _row bigint",
        [
            ("crm", "1", "crm.csv", 1),
            ("crm", "2", "crm.csv", 2),
            ("web", "1", "crm.csv", 1),
        ],
    )
    create(
        wh,
        "core.record_observations",
        "record_source varchar, record_id varchar, phone_norm varchar",
        [
            ("crm", "1", "+8613900000001"),
            ("crm", "2", None),
            ("web", "1", "+8613900000001"),
        ],
    )
    create(
        wh,
        "core.identity_map",
        "source varchar, source_id varchar, customer_id varchar",
        [
            ("crm", "1", A1),
            ("crm", "2", B1),
            ("web", "1", B1),
        ],
    )
    create(
        wh,
        "core.identity_state",
        "source varchar, source_id varchar, customer_id varchar",
        [
            ("crm", "3", A2),
            ("crm", "2", B1),
        ],
    )
    wh.ensure("core/customer_ids")
    wh.con.executemany(
        "insert into core.customer_ids (customer_id, status, merged_into) values (?, ?, ?)",
        [(A1, "active", None), (A2, "merged", A1), (B1, "active", None), (B2, "merged", B1)],
    )
    wh.build_view("core.customer_id_redirects", "core/customer_id_redirects")
    create(
        wh,
        "core.merge_history",
        "merged_customer_id varchar, surviving_customer_id varchar",
        [
            (A2, A1),
            (B2, B1),
        ],
    )
    create(
        wh,
        "core.customers",
        "customer_id varchar, email varchar, phone varchar, device_id varchar, full_name varchar, address varchar",
        [
            (A1, "a@x.cn", "+8613900000001", "D1", "同名", "人民路 1 号"),
            (B1, "b@x.cn", "+8613900000001", "D2", "同名", None),  # B shares A's golden phone and name
        ],
    )
    create(wh, "core.name_lookup", "raw varchar, norm varchar", [("A名", "a"), ("B名", "b"), ("W名", "w")])
    wh.ensure("ops/erased_identifiers")
    wh.run("ops/erase_lineage")
    wh.con.executemany("insert into _erase_lineage values (?, ?, ?)", A_LINEAGE)
    wh.run("ops/erase/records")
    wh.con.executemany("insert into _erase_records values (?, ?)", A_RECORDS)


def sql(wh: Warehouse, model: str, **identifiers: str) -> str:
    return wh.model_sql(f"ops/erase/{model}", identifiers)


def rows(wh: Warehouse, query: str) -> list[tuple]:
    return wh.rows(f"{query} order by all")


# --- the models, one test each ------------------------------------------------------------------


def check_records(wh: Warehouse) -> None:
    assert rows(wh, "select * from _erase_records") == A_RECORDS


def check_raw_keys(wh: Warehouse) -> None:
    wh.run("ops/erase/raw_keys")
    assert [name for name, _ in wh.describe('"_erase_raw_keys"')] == [
        "source",
        "file",
        "row",
        "record_source",
        "record_id",
        "email",
        "phone",
        "device_id",
    ]


def check_person_ids(wh: Warehouse) -> None:
    for asked in (A1, A2):
        assert sorted(wh.rows(sql(wh, "person_ids"), {"customer_id": asked})) == [(A1,), (A2,)]
    assert wh.rows(sql(wh, "person_ids"), {"customer_id": "Cnever"}) == []


def check_person_records(wh: Warehouse) -> None:
    assert sorted(wh.rows(sql(wh, "person_records"), {"customer_ids": [A1, A2]})) == A_RECORDS


def check_record_lineage(wh: Warehouse) -> None:
    assert wh.rows(sql(wh, "record_lineage")) == [("crm", "crm.csv", 1)]


def check_fact_lineage(wh: Warehouse) -> None:
    assert wh.rows(sql(wh, "fact_lineage", facts="core.transactions")) == [("pay", "pay.csv", 1)]


def check_person_values(wh: Warehouse) -> None:
    # 杭州 and B's phone are others' too; A's own: name, email (also lower case), phone, device
    assert rows(wh, sql(wh, "person_values")) == [
        ("device", "D1"),
        ("email", "a@x.cn"),
        ("email_lower", "a@x.cn"),
        ("name", "A名"),
        ("phone", "13900000001"),
    ]


def check_golden_values(wh: Warehouse) -> None:
    # the golden phone and name are B's too
    assert sorted(wh.rows(sql(wh, "golden_values"), {"customer_ids": [A1, A2]})) == [
        ("address", "人民路 1 号"),
        ("device_id", "D1"),
        ("email", "a@x.cn"),
    ]


def check_raw_row_keys(wh: Warehouse) -> None:
    crm = SourceConfig(
        name="crm", kind="customers", format="csv", path="crm.csv", columns={"source_id": "id"}
    )
    config = PipelineConfig.model_validate({"warehouse": ":memory:", "sources": [crm.model_dump()]})
    assert collect_raw_keys(wh, config, quarantined_only=True) == 1
    assert wh.rows("select * from _erase_raw_keys") == [("crm", "crm.csv", 3, "crm", "1", None, None, None)]
    collect_raw_keys(wh, config, quarantined_only=False)  # the amount 1 of B's row is no record id
    assert rows(wh, "select row, record_id from _erase_raw_keys") == [(1, "1"), (2, "2"), (3, "1")]


def check_erased_raw_rows(wh: Warehouse) -> None:
    wh.run("ops/erase/raw_keys")
    wh.con.executemany(
        "insert into _erase_raw_keys values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("crm", "crm.csv", 3, "crm", "1", None, None, None),
            ("web", "crm.csv", 3, "web", "1", None, None, None),
            ("pay", "pay.csv", 7, "crm", None, " A@x.cn", None, None),
            ("pay", "pay.csv", 8, "crm", "2", None, "1", "a@x.cn"),
        ],
    )
    wh.con.executemany(
        "insert into audit.erased_identifiers values (?, ?, now())",
        [
            ("record", record_key("crm", "1")),
            ("email", sha256_hex("a@x.cn")),
            ("written", sha256_hex("13900000001")),
        ],
    )
    assert rows(wh, sql(wh, "erased_raw_rows")) == [("crm", "crm.csv", 3), ("pay", "pay.csv", 7)]


def check_left_out_counts(wh: Warehouse) -> None:
    # A's row 1 of crm.csv is in _erase_lineage; B's row 2 carries an amount, as A's rows do not
    def counted(where: str) -> list[tuple]:
        crm = SourceConfig(
            name="crm", kind="customers", format="csv", path="crm.csv", columns={"source_id": "id"}
        )
        kept = kept_sql(crm.model_copy(update={"where": where}))
        return rows(wh, wh.model_sql("ops/erase/left_out_counts", {"raw": "raw.crm"}, {"kept": kept}))

    assert counted("amount is not null") == [("crm", "crm.csv", 1)]  # A's row left out; B's kept and not A's
    assert counted("amount is null") == []  # A's row staged: counted where it was staged, not here
    assert counted("id = '2'") == [("crm", "crm.csv", 1)]


def check_duplicate_lineage(wh: Warehouse) -> None:
    assert wh.rows(sql(wh, "duplicate_lineage")) == [("crm", "crm.csv", 4)]


# tables with lineage (source, file, row), by the names raw, staging and the audit tables give them
LINEAGE_TABLES = [
    ("raw.crm", ("_source", "_file", "_row")),
    ("staging.customers", ("source", "_file", "_row")),
    ("staging.transactions", ("source", "_file", "_row")),
    ("audit.quarantine", ("source", "file", "row_number")),
    ("audit.duplicates", ("source", "file", "row_number")),
]


def check_lineage_rows(wh: Warehouse) -> None:
    for table, columns in LINEAGE_TABLES:
        source, file, row = columns
        statement = sql(wh, "lineage_rows", target=table, source=source, file=file, row=row)
        expected = [r for r in rows(wh, f"select {source}, {file}, {row} from {table}") if r not in A_LINEAGE]
        wh.execute(statement)
        assert rows(wh, f"select {source}, {file}, {row} from {table}") == expected, table
    assert rows(wh, "select _row from raw.crm") == [(2,), (3,)]
    assert rows(wh, "select source, _row from staging.customers") == [("crm", 2), ("web", 1)]
    assert rows(wh, "select source, file, row_number from audit.duplicates") == [
        ("crm", "crm.csv", 4),
        ("pay", "crm.csv", 1),
        ("pay", "pay.csv", 4),
        ("web", "crm.csv", 5),
    ]


def check_lineage_counts(wh: Warehouse) -> None:
    # a row quarantined for two fields is one row read
    wh.execute(
        "insert into audit.quarantine (source, file, row_number, field) "
        "values ('crm', 'crm.csv', 1, 'email'), ('crm', 'crm.csv', 1, 'phone')"
    )
    counted = {}
    for table, columns in LINEAGE_TABLES:
        source, file, row = columns
        before = rows(wh, f"select * from {table}")
        statement = sql(wh, "lineage_counts", target=table, source=source, file=file, row=row)
        counted[table] = rows(wh, statement)
        assert rows(wh, f"select * from {table}") == before, table  # it counts, deletes nothing
    assert counted == {
        "raw.crm": [("crm", "crm.csv", 1)],
        "staging.customers": [("crm", "crm.csv", 1)],
        "staging.transactions": [("pay", "pay.csv", 1)],
        "audit.quarantine": [("crm", "crm.csv", 1)],
        "audit.duplicates": [],
    }


def check_keyed_rows(wh: Warehouse) -> None:
    wh.execute(
        sql(wh, "keyed_rows", target="core.merge_history", key="merged_customer_id"), {"keys": [A1, A2]}
    )
    wh.execute(sql(wh, "keyed_rows", target="core.identity_map", key="customer_id"), {"keys": [A1, A2]})
    assert wh.rows("select * from core.merge_history") == [(B2, B1)]
    assert rows(wh, "select * from core.identity_map") == [("crm", "2", B1), ("web", "1", B1)]


def check_record_rows(wh: Warehouse) -> None:
    wh.execute(sql(wh, "record_rows", target="core.customer_records", source="source", id="source_id"))
    wh.execute(
        sql(wh, "record_rows", target="core.record_observations", source="record_source", id="record_id")
    )
    assert rows(wh, "select source, source_id from core.customer_records") == [("crm", "2"), ("web", "1")]
    assert rows(wh, "select record_source, record_id from core.record_observations") == [
        ("crm", "2"),
        ("web", "1"),
    ]


def check_lookup(wh: Warehouse) -> None:
    assert wh.scalar(sql(wh, "lookup", lookup="core.name_lookup"), {"values": ["A名"]}) == 1
    assert rows(wh, "select raw from core.name_lookup") == [("B名",), ("W名",)]


def check_fitted_model(wh: Warehouse) -> None:
    # a fitted model is learnt from everyone: all its rows go, and no row of another table
    wh.execute("create schema if not exists predict")
    wh.execute("create table predict.model_fits (fit_day date, fitted blob)")
    wh.execute("insert into predict.model_fits values ('2026-01-01', 'a'::blob), ('2026-01-08', 'b'::blob)")
    wh.execute("create table predict.kept (fit_day date)")
    wh.execute("insert into predict.kept values ('2026-01-01')")
    assert wh.scalar(sql(wh, "fitted_model", fitted="predict.model_fits")) == 2
    assert rows(wh, "select * from predict.model_fits") == []
    assert rows(wh, "select * from predict.kept") == [(date(2026, 1, 1),)]


def check_erased_identifier(wh: Warehouse) -> None:
    wh.execute("insert into audit.erased_identifiers values ('record', 'b-hash', now())")
    for _ in range(2):
        wh.execute(
            sql(wh, "erased_identifier"), {"kind": "record", "value_sha256": "a-hash", "erased_at": None}
        )
    assert rows(wh, "select kind, value_sha256 from audit.erased_identifiers") == [
        ("record", "a-hash"),
        ("record", "b-hash"),
    ]


MODELS: dict[str, Callable[[Warehouse], None]] = {
    "records": check_records,
    "raw_keys": check_raw_keys,
    "person_ids": check_person_ids,
    "person_records": check_person_records,
    "record_lineage": check_record_lineage,
    "fact_lineage": check_fact_lineage,
    "person_values": check_person_values,
    "golden_values": check_golden_values,
    "raw_row_keys": check_raw_row_keys,
    "erased_raw_rows": check_erased_raw_rows,
    "duplicate_lineage": check_duplicate_lineage,
    "left_out_counts": check_left_out_counts,
    "lineage_rows": check_lineage_rows,
    "lineage_counts": check_lineage_counts,
    "keyed_rows": check_keyed_rows,
    "record_rows": check_record_rows,
    "lookup": check_lookup,
    "fitted_model": check_fitted_model,
    "erased_identifier": check_erased_identifier,
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_the_model_touches_only_the_erased_persons_rows(wh: Warehouse, model: str) -> None:
    MODELS[model](wh)


def test_every_erasure_model_is_tested() -> None:
    models = {
        path.relative_to(ERASE_MODELS).with_suffix("").as_posix() for path in ERASE_MODELS.rglob("*.sql")
    }
    assert models == set(MODELS)


@pytest.mark.parametrize("path", LINTED, ids=lambda p: str(p.relative_to(REPO)))
def test_erasure_models_qualify_every_column(path: Path) -> None:
    assert unqualified_columns(path) == [], (
        f"{path.relative_to(REPO)}: name each column with its table alias (inside a subquery an unqualified "
        "name binds to the inner table, so `e.source = source` compares a column with itself)"
    )


ERASE_PYTHON = [
    *sorted((REPO / "tasks" / "erase").glob("*.py")),
    REPO / "tasks" / "shared" / "lineage.py",
    REPO / "tasks" / "extract" / "erased.py",
]


def string_literals(path: Path) -> list[str]:
    """The string literals of a Python file (f-strings with their holes left out), docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append("".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append(node.value)
    return found


@pytest.mark.parametrize("path", ERASE_PYTHON, ids=lambda p: str(p.relative_to(REPO)))
def test_erasure_deletes_only_through_models(path: Path) -> None:
    """A delete written in Python is neither linted nor tested on two people: every delete is a model."""
    assert [text for text in string_literals(path) if re.search(r"\bdelete\s+from\b", text, re.I)] == []

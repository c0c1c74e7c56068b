"""Publishing safely, end to end under Prefect: a publish killed midway, privacy of exports, erasure."""

import json
import stat
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

import tasks.publish.destinations
from flows.daily_refresh import daily_refresh
from flows.erase import erase
from tasks.shared.config import load_config
from tasks.shared.contracts import sha256_hex
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END

pytestmark = pytest.mark.e2e

DESTINATIONS = [
    {
        "name": "ads",
        "kind": "files",
        "purpose": "marketing",
        "scheme": "rfm",
        "fields": ["customer_id", "email", "phone"],
        "transforms": {"email": "sha256", "phone": "mask"},
    },
    {
        "name": "analytics",
        "kind": "files",
        "fields": ["customer_id", "rfm_segment", "value_tier", "monetary"],
    },
    {"name": "changes", "kind": "files", "mode": "changes", "formats": ["csv"], "fields": ["customer_id"]},
]


def export_text(exports: Path) -> dict[Path, str]:
    """Every export file (all kept versions) as text; Parquet files as their rows."""
    texts = {}
    for path in sorted(p for p in exports.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.suffix == ".parquet":
            texts[path] = pl.read_parquet(path).cast(pl.String).write_csv()
        else:
            texts[path] = path.read_text(encoding="utf-8-sig")
    return texts


def warehouse_hits(wh: Warehouse, values: list[str]) -> dict[str, int]:
    """table.column -> rows whose text equals or contains one of values, across every table."""
    hits = {}
    for schema, table, column in wh.rows(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type in ('VARCHAR', 'JSON') and table_schema not in ('main', 'information_schema', 'pg_catalog')"
    ):
        if (schema, table) in (("audit", "erasures"), ("audit", "erased_identifiers")):
            continue
        count = wh.scalar(
            f'select count(*) from "{schema}"."{table}" where list_has_any([cast("{column}" as varchar)], ?) '
            f'or len(list_filter(?, lambda v: contains(cast("{column}" as varchar), v))) > 0',
            [values, [v for v in values if len(v) >= 8]],
        )
        if count:
            hits[f"{schema}.{table}.{column}"] = count
    return hits


def test_publish_privacy_atomicity_and_erasure(
    prefect_server: None, sample_data: Path, make_config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    suppression = tmp_path / "suppressed.txt"
    config_path = make_config(
        sample_data, destinations=DESTINATIONS, privacy={"suppression_file": str(suppression)}
    )
    config = load_config(config_path)
    day1, day2 = SAMPLE_END - timedelta(days=7), SAMPLE_END

    # a consenting customer goes on the suppression list, by the email as written anywhere
    suppression.write_text("# do not contact\n", encoding="utf-8")
    first = daily_refresh(as_of=day1, config=str(config_path))
    assert first["publish"]["changes_since"] is None  # the first published day
    with Warehouse.open(config, read_only=True) as wh:
        people = wh.dicts(
            "select s.customer_id, c.email, c.phone, c.full_name, s.marketing_consent, s.rfm_segment "
            "from published.customer_segments s join core.customers c using (customer_id) where s.as_of = ? "
            "order by s.customer_id",
            [day1],
        )
    consenting = [p for p in people if p["marketing_consent"] and p["email"] and p["rfm_segment"]]
    suppressed = consenting[0]
    suppression.write_text(f"{suppressed['email'].upper()}  # asked by phone\n", encoding="utf-8")

    # --- a publish killed between two files: the previous version stays, then a rerun completes it
    exports = config.exports_path
    before = json.loads((exports / day1.isoformat() / "manifest.json").read_text(encoding="utf-8"))
    real_write, calls, seen = tasks.publish.destinations.write_file, [], {}

    def failing_write(frame: pl.DataFrame, path: Path) -> None:
        calls.append(path.name)
        if len(calls) == 2:
            # a reader during the publish: a second connection sees the previous version only (in this
            # process, a file's second connection shares its database; a lake's is a connection of its own)
            reader = (
                duckdb.connect(str(config.warehouse_path))
                if config.lake is None
                else Warehouse.open(config, read_only=True).con
            )
            seen["runs"] = reader.execute(
                "select count(*) from published.runs where as_of = ?", [day1]
            ).fetchall()[0][0]
            seen["run_ids"] = reader.execute(
                "select distinct run_id from published.customer_segments where as_of = ?", [day1]
            ).fetchall()
            reader.close()
            raise RuntimeError("injected failure between two files")
        real_write(frame, path)

    monkeypatch.setattr("tasks.publish.exports.write_file", failing_write)
    with pytest.raises(RuntimeError, match="injected failure between two files"):
        daily_refresh(as_of=day1, config=str(config_path))
    monkeypatch.undo()
    assert seen == {"runs": 1, "run_ids": [(first["run_id"],)]}
    assert json.loads((exports / day1.isoformat() / "manifest.json").read_text(encoding="utf-8")) == before
    with Warehouse.open(config, read_only=True) as wh:
        assert wh.scalar("select count(*) from published.runs where as_of = ?", [day1]) == 1
        assert wh.rows("select distinct run_id from published.customer_segments where as_of = ?", [day1]) == [
            (first["run_id"],)
        ]
    assert not [p for p in (exports / ".versions" / day1.isoformat()).iterdir() if p.name.endswith(".tmp")]

    rerun = daily_refresh(as_of=day1, config=str(config_path))
    manifest = json.loads((exports / day1.isoformat() / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == rerun["run_id"] != first["run_id"]
    assert manifest["config_hash"] == config.config_hash()
    second = daily_refresh(as_of=day2, config=str(config_path))

    # --- membership changes: counts in the summary are the table's
    with Warehouse.open(config, read_only=True) as wh:
        counted = wh.rows(
            "select scheme, change, count(*) from published.segment_changes where as_of = ? group by all",
            [day2],
        )
        assert (
            wh.scalar("select distinct previous_as_of from published.segment_changes where as_of = ?", [day2])
            == day1
        )
    assert {(s, c): n for s, c, n in counted} == {
        (scheme, change): n
        for scheme, counts in second["publish"]["changes"].items()
        for change, n in counts.items()
        if n
    }
    assert set(second["publish"]["changes"]) == {"rfm", "rfm_cn", "tier", "lifecycle", "rules", "cluster"}
    assert second["publish"]["changes_since"] == day1.isoformat()

    # --- privacy: no raw email or phone in any export; opted-out and suppressed absent from marketing
    with Warehouse.open(config, read_only=True) as wh:
        people = wh.dicts(
            "select s.customer_id, c.email, c.phone, c.full_name, s.marketing_consent, s.rfm_segment "
            "from published.customer_segments s join core.customers c using (customer_id) where s.as_of = ? "
            "order by s.customer_id",
            [day2],
        )
    consenting = [p for p in people if p["marketing_consent"] and p["email"] and p["rfm_segment"]]
    texts = export_text(exports)
    emails = [p["email"] for p in people if p["email"]]
    phones = [p["phone"] for p in people if p["phone"]]
    national = [p[3:] for p in phones if p.startswith("+86")]
    leaked = [path for path, text in texts.items() if any(v in text for v in emails + phones + national)]
    assert leaked == []
    ads = pl.concat(
        [pl.read_parquet(p) for p in (exports / day2.isoformat() / "ads").glob("*.parquet")], how="vertical"
    )
    assert ads.height > 100
    opted_out = {p["customer_id"] for p in people if not p["marketing_consent"]}
    assert opted_out and not (set(ads["customer_id"]) & opted_out)
    assert suppressed["customer_id"] not in set(ads["customer_id"])
    row = ads.filter(pl.col("customer_id") == consenting[1]["customer_id"]).row(0, named=True)
    assert row["email"] == sha256_hex(consenting[1]["email"])
    assert row["phone"] is None or "****" in row["phone"]

    # --- owner-only files and folders
    lake = [] if config.lake is None else [config.warehouse_path, *config.warehouse_path.rglob("*")]
    stored = [config.warehouse_path] if config.lake is None else [p for p in lake if p.is_file()]
    assert stored
    for path in [*stored, *texts]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in [exports, *(p for p in [*exports.rglob("*"), *lake] if p.is_dir() and not p.is_symlink())]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert (exports / day2.isoformat() / "report.html").read_text(encoding="utf-8").count(
        "* plotly.js v"
    ) == 1

    # --- erasure: every trace, in every table and every export file, is gone; a second erase removes nothing
    person = next(p for p in consenting[2:] if p["phone"] and p["full_name"] and len(p["full_name"]) >= 2)
    with Warehouse.open(config, read_only=True) as wh:
        source_ids = [
            i
            for (i,) in wh.rows(
                "select source_id from core.identity_map where customer_id = ?", [person["customer_id"]]
            )
        ]
        traces = [person["customer_id"], person["email"], person["phone"], person["phone"][3:], *source_ids]
        assert warehouse_hits(wh, traces)  # found before
    assert any(person["customer_id"] in text for text in export_text(exports).values())
    result = erase(customer_id=person["customer_id"], config=str(config_path))
    assert result["rows_removed"] > 0 and result["files"]
    with Warehouse.open(config, read_only=True) as wh:
        assert warehouse_hits(wh, traces) == {}
        name_rows = wh.scalar(
            "select count(*) from core.customers where full_name = ?", [person["full_name"]]
        )
        assert name_rows == sum(1 for p in people if p["full_name"] == person["full_name"]) - 1
    assert [p for p, text in export_text(exports).items() if any(t in text for t in traces)] == []
    again = erase(customer_id=person["customer_id"], config=str(config_path))
    assert (again["rows_removed"], again["files"]) == (0, [])
    with Warehouse.open(config, read_only=True) as wh:
        assert wh.rows("select customer_id, rows_removed from audit.erasures order by erased_at") == [
            (person["customer_id"], result["rows_removed"]),
            (person["customer_id"], 0),
        ]
        assert wh.scalar("select count(*) from audit.erasures where cast(tables as varchar) like '%@%'") == 0

    # a full reload re-reads the source files: the erased person is dropped again
    daily_refresh(as_of=day2, config=str(config_path), full_refresh=["all"])
    with Warehouse.open(config, read_only=True) as wh:
        assert warehouse_hits(wh, [t for t in traces if t != person["customer_id"]]) == {}
        assert (
            wh.scalar(
                "select count(*) from published.customer_segments where customer_id = ?",
                [person["customer_id"]],
            )
            == 0
        )


def test_default_exports_carry_no_personal_fields(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config_path = make_config(sample_data)
    summary = daily_refresh(as_of=SAMPLE_END - timedelta(days=30), config=str(config_path))
    columns = pl.read_parquet(Path(summary["publish"]["export_dir"]) / "customer_segments.parquet").columns
    assert not set(columns) & {
        "email",
        "phone",
        "full_name",
        "birth_date",
        "national_id",
        "address",
        "device_id",
    }
    assert date.fromisoformat(summary["as_of"]) == SAMPLE_END - timedelta(days=30)

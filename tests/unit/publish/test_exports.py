"""Export versions: files and manifest written, the link switched atomically, failures leave the previous version."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tasks.publish import code_version, publish_tables, write_exports
from tasks.publish.exports import orphaned_exports, prune_exports
from tasks.shared.files import UTF8_BOM
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENT_COLUMNS, SEGMENTS_AS_OF, build_segments

EXPORT_FILES = [
    "customer_segments.csv",
    "customer_segments.parquet",
    "manifest.json",
    "report.md",
    "segment_sizes.csv",
]


EXPORTED_CSV = (
    ",".join([*SEGMENT_COLUMNS, "recommended_items"]) + "\n"
    "2026-03-31,C1,3,4,520.00,5,5,5,Champions,冠军客户,重要价值客户,Important Value,high,高价值,active,活跃,"
    "high_frequency_players,高频玩家,0,big,大,,,,,,,2025-09-12,2026-03-28,1,2,3,5,9,12,麻将,2026-03-31,true,\n"
    "2026-03-31,C2,40,1,-0.50,1,1,1,Lost,已流失客户,一般挽留客户,General Win-back,low,低价值,churned,流失,"
    ",,1,small,小,,,,,,,2026-02-19,2026-02-19,0,1,1,0,0,0,,2026-03-21,false,\n"
    "2026-03-31,C3,,,,,,,No Purchase,未购买客户,未购买客户,No Purchase,none,未消费,never_purchased,未付费,"
    '"high_intent_not_paying,high_frequency_players","高意向未付费,高频玩家",2,free,免费,,,,,,,,,0,0,0,2,2,2,斗地主,2026-03-28,'
    "false,\n"
)
# C1's ids sorted as text ('M10' before 'M2'), its device record left out; C3 has only a record made from an
# e-mail address (core/facts.sql).
SOURCE_IDS = {"C1": "crm:M10;crm:M2", "C2": "shop:1002", "C3": None}


EXPORTED_SIZES = "rfm_segment,rfm_segment_zh,customers\nChampions,冠军客户,1\nLost,已流失客户,1\nNo Purchase,未购买客户,1\n"


def csv_text(path: Path) -> str:
    """A CSV export, which must start with the UTF-8 BOM, as text."""
    data = path.read_bytes()
    assert data.startswith(UTF8_BOM)
    return data[len(UTF8_BOM) :].decode("utf-8")


def visible(exports: Path) -> list[str]:
    """The published day folders (links into .versions/), without anything hidden."""
    return sorted(p.name for p in exports.iterdir() if not p.name.startswith("."))


def versions(exports: Path, day: str) -> list[str]:
    """All version folders kept for a day, temporary ones included."""
    folder = exports / ".versions" / day
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_write_exports_writes_five_files_and_a_matching_manifest(wh: Warehouse, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")

    result = write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "# 报告\n")

    folder = exports / "2026-03-31"
    assert (result.as_of, result.rows, result.export_dir) == (SEGMENTS_AS_OF, 3, str(folder))
    assert visible(exports) == ["2026-03-31"]
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()} == dict.fromkeys(
        EXPORT_FILES, 0o600
    )
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    assert csv_text(folder / "customer_segments.csv") == EXPORTED_CSV
    assert csv_text(folder / "segment_sizes.csv") == EXPORTED_SIZES
    assert (folder / "report.md").read_text(encoding="utf-8") == "# 报告\n"
    rows = wh.frame("select * exclude (run_id) from published.customer_segments order by customer_id")
    assert pl.read_parquet(folder / "customer_segments.parquet").equals(rows)
    assert pl.read_csv(folder / "customer_segments.csv", schema=rows.schema).equals(rows)

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    files = {
        name: {
            "rows": rows,
            "bytes": (folder / name).stat().st_size,
            "sha256": hashlib.sha256((folder / name).read_bytes()).hexdigest(),
        }
        for name, rows in [
            ("customer_segments.parquet", 3),
            ("customer_segments.csv", 3),
            ("segment_sizes.csv", 3),
            ("report.md", None),
        ]
    }
    assert manifest == {
        "as_of": "2026-03-31",
        "partial": False,
        "run_id": "run-1",
        "config_hash": "hash-a",
        "code_version": code_version(),
        "created_at": manifest["created_at"],
        "row_counts": {"customer_segments": 3, "segment_sizes": 3},
        "files": files,
    }
    assert list(manifest["files"]) == [
        "customer_segments.parquet",
        "customer_segments.csv",
        "segment_sizes.csv",
        "report.md",
    ]
    assert result.files == files
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset() == timedelta(0)


def test_source_ids_asked_for_follow_the_customer_id_unless_they_are_personal_data(
    wh: Warehouse, tmp_path: Path
) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    folder = tmp_path / "exports" / "2026-03-31"
    rows = wh.frame("select * exclude (run_id) from published.customer_segments order by customer_id")

    write_exports(wh, tmp_path / "exports", SEGMENTS_AS_OF, "run-1", "hash-a", "# 报告\n", source_ids=True)
    ids = pl.Series("source_ids", [SOURCE_IDS[c] for c in rows["customer_id"]], dtype=pl.String)
    with_ids = rows.clone().insert_column(2, ids)  # insert_column changes the frame it is called on
    assert pl.read_parquet(folder / "customer_segments.parquet").equals(with_ids)
    assert pl.read_csv(folder / "customer_segments.csv", schema=with_ids.schema).equals(with_ids)
    assert csv_text(folder / "customer_segments.csv").startswith("as_of,customer_id,source_ids,recency_days,")

    # a shop that counts its own customer numbers as personal data lists source_ids in privacy.pii_fields
    write_exports(
        wh,
        tmp_path / "exports",
        SEGMENTS_AS_OF,
        "run-2",
        "hash-a",
        "# 报告\n",
        pii=["source_ids"],
        source_ids=True,
    )
    assert pl.read_parquet(folder / "customer_segments.parquet").equals(rows)
    assert b"shop:1002" not in (folder / "customer_segments.csv").read_bytes()


def test_write_exports_again_replaces_the_folder_and_leaves_no_temporary_folders(
    wh: Warehouse, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    (exports / "2026-03-31" / "stale.txt").write_text("left by hand", encoding="utf-8")

    wh.execute(
        "update segments.customer_segments set rfm_segment = 'Lost', rfm_segment_zh = '已流失客户' "
        "where customer_id = 'C1'"
    )
    publish_tables(wh, SEGMENTS_AS_OF, "run-2", "hash-b")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-b", "second\n")

    folder = exports / "2026-03-31"
    assert visible(exports) == ["2026-03-31"]  # no .<as_of>.*.tmp or .old
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    assert (folder / "report.md").read_text(encoding="utf-8") == "second\n"
    assert csv_text(folder / "segment_sizes.csv") == (
        "rfm_segment,rfm_segment_zh,customers\nLost,已流失客户,2\nNo Purchase,未购买客户,1\n"
    )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["run_id"], manifest["config_hash"]) == ("run-2", "hash-b")

    # the same run again (a task retry): same result, still nothing left beside the folder
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-b", "second\n")
    assert visible(exports) == ["2026-03-31"]
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    # the day is a link to the current version; the previous version is kept, older ones removed
    kept = versions(exports, "2026-03-31")
    assert len(kept) == 2 and not any(name.startswith(".") for name in kept)
    assert folder.is_symlink() and folder.resolve().name == kept[-1]
    assert [p.name for p in exports.iterdir() if p.name.startswith(".") and p.name != ".versions"] == []


KEPT_DAYS = "(kept: 5 days up to 2026-03-31)"


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_a_folder_or_file_where_the_days_link_goes_is_moved_aside_never_deleted(
    wh: Warehouse, tmp_path: Path, kind: str
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    first = write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    assert first.moved_aside == []
    day = exports / "2026-03-31"
    day.unlink()  # someone put a copy of the day (with notes of their own) where the link was
    if kind == "folder":
        day.mkdir()
        (day / "notes.txt").write_text("campaign notes", encoding="utf-8")
    else:
        day.write_text("campaign notes", encoding="utf-8")

    second = write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-a", "second\n")

    (aside,) = [p for p in exports.iterdir() if p.name.startswith("2026-03-31.replaced-")]
    assert second.moved_aside == [
        f"{day} was a {kind}, not the day's link: moved aside to {aside.name}, nothing in it deleted"
    ]
    kept = aside / "notes.txt" if kind == "folder" else aside
    assert kept.read_text(encoding="utf-8") == "campaign notes"
    assert day.is_symlink() and (day / "report.md").read_text(encoding="utf-8") == "second\n"

    # moved-aside copies of days keep_export_days no longer keeps go as those days' files do
    (exports / "2026-03-20.replaced-20260401T000000000000Z").mkdir()
    (exports / "2026-03-20.replaced-20260401T000000000000Z" / "customer_segments.csv").write_text("x\n")
    (exports / "2026-03-25.replaced-20260401T000000000000Z").write_text("x\n")
    assert prune_exports(wh, exports, 5) == [
        f"removed 2026-03-20.replaced-20260401T000000000000Z, moved aside from the day's link {KEPT_DAYS}",
        f"removed 2026-03-25.replaced-20260401T000000000000Z, moved aside from the day's link {KEPT_DAYS}",
    ]
    assert sorted(p.name for p in exports.iterdir() if not p.name.startswith(".")) == [
        "2026-03-31",
        aside.name,
    ]


def test_write_exports_of_another_day_keeps_the_first(wh: Warehouse, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    day2 = SEGMENTS_AS_OF + timedelta(days=1)
    for day, run in ((SEGMENTS_AS_OF, "run-1"), (day2, "run-2")):
        build_segments(wh, day)
        publish_tables(wh, day, run, "hash-a")
        write_exports(wh, exports, day, run, "hash-a", f"{day}\n")
    assert visible(exports) == ["2026-03-31", "2026-04-01"]
    for day in (SEGMENTS_AS_OF, day2):
        exported = pl.read_parquet(exports / day.isoformat() / "customer_segments.parquet")
        assert exported.select("as_of", "customer_id").rows() == [(day, "C1"), (day, "C2"), (day, "C3")]
        assert (exports / day.isoformat() / "report.md").read_text(encoding="utf-8") == f"{day}\n"


def fail_to_sync(frame: object, path: Path) -> None:
    raise OSError(28, "No space left on device", str(path))


def test_write_exports_that_fails_keeps_the_previous_folder(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    monkeypatch.setattr("tasks.publish.exports.write_file", fail_to_sync)
    with pytest.raises(OSError, match="No space left on device"):
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-2", "hash-a", "second\n")
    folder = exports / "2026-03-31"
    assert sorted(p.name for p in folder.iterdir()) == EXPORT_FILES
    assert (folder / "report.md").read_text(encoding="utf-8") == "first\n"
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["run_id"] == "run-1"


def test_write_exports_that_fails_leaves_no_temporary_folder(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exports = tmp_path / "exports"
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    monkeypatch.setattr("tasks.publish.exports.write_file", fail_to_sync)
    with pytest.raises(OSError, match="No space left on device"):
        write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    assert visible(exports) == []


def test_published_days_without_their_warehouse_are_warned_of(wh: Warehouse, tmp_path: Path) -> None:
    exports, warehouse = tmp_path / "exports", tmp_path / "warehouse.duckdb"
    assert orphaned_exports(exports, warehouse) is None  # a first run: no exports yet
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    write_exports(wh, exports, SEGMENTS_AS_OF, "run-1", "hash-a", "first\n")
    (exports / ".versions" / "2026-03-30").mkdir()  # a day folder with no version: not a published day

    assert orphaned_exports(exports, warehouse) == (
        f"warehouse {warehouse} does not exist, but {exports} holds 1 published day(s), 2026-03-31..2026-03-31: "
        "a new warehouse is made, and the published history, membership changes and the customer id registry "
        "start over. If the file was moved or lost, stop this run and put it back"
    )
    warehouse.write_bytes(b"")
    assert orphaned_exports(exports, warehouse) is None

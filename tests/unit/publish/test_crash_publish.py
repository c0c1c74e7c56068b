"""A publish that dies: the link moves only after the tables commit, and the next publish puts right what a
kill left (tasks/publish/exports.py: prepare_exports, switch_exports, recover_exports).

A kill is simulated by stopping where the process would have died: the warehouse transaction is
rolled back (what DuckDB does with an uncommitted transaction of a dead process) and nothing else
runs. tests/e2e/test_kills.py kills real refreshes with SIGKILL.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date, timedelta
from pathlib import Path

import pytest

import tasks.publish
import tasks.publish.exports
from tasks.publish import publish_day, publish_tables, recover_exports, write_exports
from tasks.publish.exports import building_folder, prepare_exports, switch_exports
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.errors import DataError, is_transient
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments

DAY1 = SEGMENTS_AS_OF
DAY2 = SEGMENTS_AS_OF + timedelta(days=1)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, and it is not an Exception a handler would catch."""


def config_in(folder: Path) -> PipelineConfig:
    """A config whose exports go to folder/exports (its source is never read here)."""
    path = folder / "pipeline.yaml"
    path.write_text(
        "warehouse: w.duckdb\nexports: exports\nsources:\n"
        "  - {name: crm, kind: customers, format: csv, path: crm.csv, columns: {source_id: id}}\n",
        encoding="utf-8",
    )
    return load_config(path)


def linked(exports: Path, day: date) -> str | None:
    """The version exports/<day> points at."""
    link = exports / day.isoformat()
    return link.resolve().name if link.is_symlink() else None


def entries(exports: Path, day: date) -> list[str]:
    """Everything in the day's versions folder, unfinished versions included."""
    return sorted(p.name for p in (exports / ".versions" / day.isoformat()).iterdir())


def committed_run(wh: Warehouse, day: date) -> tuple | None:
    """(run_id, export_version) of the day's latest committed publish, seen from another connection."""
    other = wh.con.cursor()  # a connection of its own: it sees committed rows only
    try:
        return other.execute(
            "select run_id, export_version from published.runs where as_of = ? order by published_at desc limit 1",
            [day],
        ).fetchone()
    finally:
        other.close()


@pytest.fixture
def published(wh: Warehouse, tmp_path: Path) -> Path:
    """DAY1 published by run-1 (exports in tmp_path/exports); DAY2's segments built, nothing of it published."""
    exports = tmp_path / "exports"
    build_segments(wh, DAY1)
    publish_tables(wh, DAY1, "run-1", "hash-a")
    write_exports(wh, exports, DAY1, "run-1", "hash-a", "day one\n")
    build_segments(wh, DAY2)
    return exports


def killed_while_preparing(wh: Warehouse, exports: Path, run_id: str, *, commit: bool) -> str:
    """DAY2's publish up to a kill right after its version was written: before or after the commit."""
    try:
        with wh.transaction():
            publish_tables(wh, DAY2, run_id, "hash-a")
            result = prepare_exports(wh, exports, DAY2, run_id, "hash-a", "day two\n")
            if not commit:
                raise Killed
    except Killed:
        pass
    return result.version


def quiet_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    """publish_day on hand-built segments: audits and reports are other tests' business."""
    monkeypatch.setattr(tasks.publish, "run_audits", lambda wh, as_of: None)
    monkeypatch.setattr(tasks.publish, "render_markdown", lambda summary, language="zh": "report\n")
    monkeypatch.setattr(tasks.publish, "report_data", lambda wh, as_of, summary, language="zh": {})
    monkeypatch.setattr(tasks.publish, "render_html", lambda data: "<html></html>")


def test_the_link_moves_only_after_the_tables_and_the_version_committed(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_in(tmp_path)
    build_segments(wh, DAY1)
    quiet_publish(monkeypatch)
    seen = []
    real_link = tasks.publish.exports.link

    def link(exports: Path, day: str, version: str) -> None:
        seen.append((committed_run(wh, DAY1), version, (exports / ".versions" / day / version).is_dir()))
        real_link(exports, day, version)

    monkeypatch.setattr(tasks.publish.exports, "link", link)
    result, _, _, _ = publish_day(wh, config, DAY1, "run-1", {}, logging.getLogger("t"))
    assert seen == [(("run-1", result.version), result.version, True)]
    assert linked(config.exports_path, DAY1) == result.version
    manifest = json.loads(
        (config.exports_path / DAY1.isoformat() / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["run_id"] == "run-1"


def test_a_publish_failing_before_its_commit_leaves_no_version_and_no_rows(
    published: Path, wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_in(tmp_path)
    quiet_publish(monkeypatch)
    before = entries(published, DAY1)

    real_prepare = tasks.publish.prepare_exports

    def prepare_then_fail(*args: object, **kwargs: object) -> object:
        real_prepare(*args, **kwargs)  # the version is complete and recorded, the commit is to come
        raise Killed  # Prefect's SIGTERM bridge, a KeyboardInterrupt: not an Exception, still cleaned up

    monkeypatch.setattr(tasks.publish, "prepare_exports", prepare_then_fail)
    with pytest.raises(Killed):
        publish_day(wh, config, DAY2, "run-2", {}, logging.getLogger("t"))
    assert committed_run(wh, DAY2) is None
    assert entries(published, DAY2) == []  # the written version is gone with the rollback
    assert linked(published, DAY2) is None
    assert entries(published, DAY1) == before


def test_a_file_where_the_days_folder_goes_stops_the_publish_naming_it(
    published: Path, wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = config_in(tmp_path)
    quiet_publish(monkeypatch)
    taken = published / ".versions" / DAY2.isoformat()
    taken.write_text("not a folder\n", encoding="utf-8")
    with pytest.raises(DataError) as caught:
        publish_day(wh, config, DAY2, "run-2", {}, logging.getLogger("t"))
    assert str(caught.value) == (
        f"exports: {taken} is a file, not a folder: the day's files cannot be written there; move it away, or "
        "set exports: in the config to another folder"
    )
    assert not is_transient(caught.value)  # not retried: it stays so until someone moves it
    assert committed_run(wh, DAY2) is None and linked(published, DAY1) is not None
    taken.unlink()
    taken.symlink_to("/mnt/exports-share/day")  # a share that is not mounted
    with pytest.raises(DataError) as caught:
        publish_day(wh, config, DAY2, "run-2", {}, logging.getLogger("t"))
    assert str(caught.value).startswith(
        f"exports: {taken} is a link to /mnt/exports-share/day, which does not exist, not a folder: "
    )


def test_a_version_whose_publish_did_not_commit_is_removed_by_the_next_publish(
    published: Path, wh: Warehouse
) -> None:
    version = killed_while_preparing(wh, published, "run-2", commit=False)
    assert entries(published, DAY2) == [f".{version}.tmp"]  # complete (manifest written) but not committed
    assert (building_folder(published, DAY2, version) / "manifest.json").is_file()
    assert committed_run(wh, DAY2) is None

    done = recover_exports(wh, published)
    assert done == [f"removed the unfinished export version {DAY2}/{version}"]
    assert entries(published, DAY2) == []
    assert linked(published, DAY2) is None


def test_a_committed_version_killed_before_its_rename_is_completed_and_linked(
    published: Path, wh: Warehouse
) -> None:
    version = killed_while_preparing(wh, published, "run-2", commit=True)
    assert committed_run(wh, DAY2) == ("run-2", version)
    assert linked(published, DAY2) is None

    assert recover_exports(wh, published) == [f"linked {DAY2} to its committed export version {version}"]
    assert entries(published, DAY2) == [version]
    assert linked(published, DAY2) == version
    manifest = json.loads((published / DAY2.isoformat() / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == "run-2"
    assert recover_exports(wh, published) == []  # nothing left to do


def test_a_committed_version_killed_before_its_link_is_linked(published: Path, wh: Warehouse) -> None:
    first = linked(published, DAY1)
    republished = killed_while_preparing_day1(wh, published)
    # killed between the rename and the link switch: the day still shows the version before
    assert linked(published, DAY1) == first
    assert recover_exports(wh, published) == [
        f"removed the unfinished link .{DAY1}.{republished}.link",
        f"linked {DAY1} to its committed export version {republished}",
    ]
    assert linked(published, DAY1) == republished
    assert [p.name for p in published.iterdir() if p.name.startswith(".")] == [".versions"]
    assert entries(published, DAY1) == sorted([first, republished])  # the previous version is kept


def killed_while_preparing_day1(wh: Warehouse, exports: Path) -> str:
    """DAY1 published again by run-3, killed after its version folder was renamed but before the link moved."""
    with wh.transaction():
        publish_tables(wh, DAY1, "run-3", "hash-a")
        result = prepare_exports(wh, exports, DAY1, "run-3", "hash-a", "day one again\n")
    building_folder(exports, DAY1, result.version).rename(
        exports / ".versions" / DAY1.isoformat() / result.version
    )
    (exports / f".{DAY1.isoformat()}.{result.version}.link").symlink_to("nowhere")  # a half-made link
    return result.version


def test_recovery_leaves_days_alone_whose_link_is_their_latest_publish(
    published: Path, wh: Warehouse
) -> None:
    before = entries(published, DAY1), os.readlink(published / DAY1.isoformat())
    version = killed_while_preparing(wh, published, "run-2", commit=True)
    switch_exports(published, tasks.publish.exports.PublishResult(DAY2, 3, "", version=version))
    assert recover_exports(wh, published) == []
    assert (entries(published, DAY1), os.readlink(published / DAY1.isoformat())) == before
    assert linked(published, DAY2) == version


def test_days_published_before_versions_were_recorded_are_left_alone(published: Path, wh: Warehouse) -> None:
    wh.execute("update published.runs set export_version = null")  # a warehouse from before this change
    stray = published / ".versions" / DAY1.isoformat() / "20200101T000000000000Z-old"
    stray.mkdir()
    assert recover_exports(wh, published) == []
    assert stray.is_dir()

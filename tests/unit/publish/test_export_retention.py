"""Export retention (keep_export_days): a publish removes the export folders of days before the last N up to
the newest published day; the warehouse keeps their rows (tasks/publish/exports.py: prune_exports)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest

from tasks.publish import publish_day, recover_exports
from tasks.publish.exports import prune_exports
from tasks.shared.config import ConfigError, PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments
from tests.unit.publish.test_crash_publish import quiet_publish

DAYS = [SEGMENTS_AS_OF + timedelta(days=n) for n in range(4)]


@pytest.fixture(autouse=True)
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    """publish_day on hand-built segments, without audits and reports (test_crash_publish.quiet_publish)."""
    quiet_publish(monkeypatch)


def config_in(folder: Path, keep: int | None) -> PipelineConfig:
    """A config whose exports go to folder/exports, keeping keep days of them (its source is never read)."""
    path = folder / "pipeline.yaml"
    path.write_text(
        "warehouse: w.duckdb\nexports: exports\n"
        + (f"keep_export_days: {keep}\n" if keep is not None else "")
        + "sources:\n  - {name: crm, kind: customers, format: csv, path: crm.csv, columns: {source_id: id}}\n",
        encoding="utf-8",
    )
    return load_config(path)


def publish(wh: Warehouse, config: PipelineConfig, day: date, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Publish day's hand-built segments; return the lines the publish logged."""
    build_segments(wh, day)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="retention"):
        publish_day(wh, config, day, f"run-{day}", {}, logging.getLogger("retention"))
    return [r.getMessage() for r in caplog.records if r.name == "retention"]


def listing(exports: Path) -> tuple[list[str], list[str]]:
    """(the day links and folders in exports/, the entries of exports/.versions/)."""
    days = sorted(p.name for p in exports.iterdir() if not p.name.startswith("."))
    kept = sorted(p.name for p in (exports / ".versions").iterdir())
    return days, kept


def published_days(wh: Warehouse) -> list[tuple[date, int]]:
    """Each published day with its rows in published.customer_segments."""
    return wh.rows("select as_of, count(*) from published.customer_segments group by as_of order by as_of")


def test_a_publish_removes_the_export_folders_of_days_before_the_last_n(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_in(tmp_path, keep=2)
    exports = config.exports_path
    logs = [publish(wh, config, day, caplog) for day in DAYS]

    d = [day.isoformat() for day in DAYS]
    assert logs[:2] == [[], []]
    assert logs[2] == [f"removed the export files of {d[0]} (kept: 2 days up to {d[2]})"]
    assert logs[3] == [f"removed the export files of {d[1]} (kept: 2 days up to {d[3]})"]
    assert listing(exports) == ([d[2], d[3]], [d[2], d[3]])
    assert (exports / d[3] / "customer_segments.csv").is_file()
    assert published_days(wh) == [(day, 3) for day in DAYS]  # the rows stay in the warehouse


def test_a_backfill_of_an_older_day_keeps_the_newest_days_files(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_in(tmp_path, keep=2)
    for day in DAYS[2:]:
        publish(wh, config, day, caplog)

    logs = publish(wh, config, DAYS[0], caplog)  # older than the two days kept: its files are not written

    d = [day.isoformat() for day in DAYS]
    assert logs == [
        f"export files of {d[0]} not written: keep_export_days keeps 2 days up to {d[3]}, and {d[0]} is older"
    ]
    assert [r.levelname for r in caplog.records if r.name == "retention"] == ["WARNING"]
    assert listing(config.exports_path) == ([d[2], d[3]], [d[2], d[3]])
    assert published_days(wh) == [(DAYS[0], 3), (DAYS[2], 3), (DAYS[3], 3)]
    assert wh.rows("select as_of, export_version is null from published.runs order by as_of") == [
        (DAYS[0], True),
        (DAYS[2], False),
        (DAYS[3], False),
    ]


def test_a_day_published_again_once_older_than_the_days_kept_loses_its_files(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_in(tmp_path, keep=3)
    for day in DAYS[1:]:
        publish(wh, config, day, caplog)
    config = config_in(
        tmp_path, keep=2
    )  # fewer days kept: the next publish of DAYS[1] finds its folder outside

    logs = publish(wh, config, DAYS[1], caplog)

    d = [day.isoformat() for day in DAYS]
    assert logs == [
        f"export files of {d[1]} not written: keep_export_days keeps 2 days up to {d[3]}, and {d[1]} is older",
        f"removed the export files of {d[1]} (kept: 2 days up to {d[3]}): {d[1]} is older than the days "
        "keep_export_days keeps",
    ]
    assert listing(config.exports_path) == ([d[2], d[3]], [d[2], d[3]])
    assert published_days(wh) == [(day, 3) for day in DAYS[1:]]


def test_without_a_setting_every_days_files_are_kept(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_in(tmp_path, keep=None)
    logs = [publish(wh, config, day, caplog) for day in DAYS]
    d = [day.isoformat() for day in DAYS]
    assert logs == [[], [], [], []]
    assert listing(config.exports_path) == (d, d)


def test_what_a_killed_prune_left_is_finished_by_the_next_one(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exports = config_in(tmp_path, keep=None).exports_path
    for day in DAYS[:3]:
        publish(wh, config_in(tmp_path, keep=None), day, caplog)
    d = [day.isoformat() for day in DAYS]
    # killed after the first step of removing day 0 (renamed) and after the second of day 1 (link gone)
    (exports / ".versions" / d[0]).rename(exports / ".versions" / f".{d[0]}.pruned")
    (exports / ".versions" / d[1]).rename(exports / ".versions" / f".{d[1]}.pruned")
    (exports / d[1]).unlink()

    assert recover_exports(wh, exports) == []  # a day being removed is not linked again
    assert listing(exports) == ([d[0], d[2]], [f".{d[0]}.pruned", f".{d[1]}.pruned", d[2]])

    # the day-0 link dangles; the next prune removes it and both renamed folders, with or without a setting
    assert prune_exports(wh, exports, None) == [
        f"finished removing the export files of {d[0]}",
        f"finished removing the export files of {d[1]}",
    ]
    assert listing(exports) == ([d[2]], [d[2]])
    assert prune_exports(wh, exports, None) == []


def test_only_folders_named_as_days_are_removed(
    wh: Warehouse, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_in(tmp_path, keep=1)
    exports = config.exports_path
    publish(wh, config, DAYS[1], caplog)
    for name in ("20200101", "2020-W01-1", "notes"):  # date.fromisoformat reads the first two as days
        (exports / name).mkdir()
    publish(wh, config, DAYS[2], caplog)
    d = [day.isoformat() for day in DAYS]
    assert listing(exports) == (sorted(["20200101", "2020-W01-1", "notes", d[2]]), [d[2]])


def test_keep_export_days_must_be_a_positive_number(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        config_in(tmp_path, keep=0)
    assert str(error.value) == (
        f"{tmp_path / 'pipeline.yaml'}: invalid config\n"
        "  - line 3, keep_export_days: Input should be greater than or equal to 1"
    )

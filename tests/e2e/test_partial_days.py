"""Days published before they ended: marked partial, recomputed by the next run and by a backfill."""

import html
import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.backfill import backfill
from flows.cli import app
from flows.daily_refresh import daily_refresh
from tasks.publish.labels import partial_notes
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END

pytestmark = pytest.mark.e2e


def runs(config: Path) -> list[tuple]:
    with Warehouse.open(load_config(config), read_only=True) as wh:
        return wh.rows("select as_of, partial from published.runs order by published_at")


def mark_partial(config: Path, day) -> None:
    """As if the day had been published by a run that started before the day ended."""
    with Warehouse.open(load_config(config)) as wh:
        wh.execute("update published.runs set partial = true where as_of = ?", [day])


def kept_sources_table(report: str) -> str:
    """report.md's table of what the warehouse holds per source (every file loaded)."""
    return report.split("### 仓库内（全部已加载的文件） In the warehouse (every file loaded)\n\n")[1].split(
        "\n\n"
    )[0]


def test_today_is_published_partial_and_says_so(prefect_server: None, sample_data: Path, make_config) -> None:
    config = make_config(sample_data)
    pipeline = load_config(config)
    today = pipeline.today()
    summary = daily_refresh(as_of=today, config=str(config))
    assert summary["partial"] is True
    assert runs(config) == [(today, True)]

    folder = pipeline.exports_path / today.isoformat()
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["partial"] is True
    zh, en = partial_notes(today.isoformat(), "Asia/Shanghai")
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert f"> **{zh} {en}**" in report.splitlines()
    assert f'<p class="partial">{html.escape(zh)} {html.escape(en)}</p>' in (
        folder / "report.html"
    ).read_text(encoding="utf-8")
    shown = CliRunner().invoke(app, ["profile", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[1] == (
        f"  partial: {today} had not ended when it was published; the first run after it ends publishes it again"
    )
    assert lines[-1].endswith("  (partial day)")

    # run again: it reads nothing new, and its report still shows what the warehouse holds of each source
    kept = kept_sources_table(report)
    assert daily_refresh(as_of=today, config=str(config))["extract"][0]["rows_read"] == 0
    again = (folder / "report.md").read_text(encoding="utf-8")
    assert kept_sources_table(again) == kept
    assert "| crm | customers | 0/1 | 0 | 0 | 0 | 0 | unchanged |" in again.splitlines()
    with Warehouse.open(pipeline, read_only=True) as wh:
        staged, quarantined = wh.rows(
            "select (select count(*) from staging.customers where source = 'crm'), "
            "(select count(*) from audit.quarantine where source = 'crm')"
        )[0]
    crm = next(line for line in kept.splitlines() if line.startswith("| crm |")).strip("| ").split(" | ")
    assert (int(crm[2].replace(",", "")), int(crm[4].replace(",", ""))) == (
        staged,
        quarantined,
    )  # source, files, staged, unattributed, quarantined
    assert quarantined > 0  # the sample's crm has bad rows: a 0 would be the defect this guards against


def test_the_next_run_and_a_backfill_recompute_a_partial_day_that_has_ended(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config = make_config(sample_data)
    before, day, after = SAMPLE_END - timedelta(days=2), SAMPLE_END - timedelta(days=1), SAMPLE_END
    assert backfill(start=before, end=day, config=str(config)) == [before.isoformat(), day.isoformat()]
    mark_partial(config, day)

    summary = daily_refresh(as_of=after, config=str(config))
    assert summary["recomputed_partial_days"] == [day.isoformat()]
    assert summary["partial"] is False
    assert runs(config)[2:] == [(day, False), (after, False)]  # the partial day first, then the run's own
    exports = load_config(config).exports_path
    assert (
        json.loads((exports / day.isoformat() / "manifest.json").read_text(encoding="utf-8"))["partial"]
        is False
    )
    # the recomputed day extracted nothing itself: its report still shows what the warehouse holds
    recomputed, own = (
        kept_sources_table((exports / d.isoformat() / "report.md").read_text("utf-8")) for d in (day, after)
    )
    assert recomputed == own and recomputed.splitlines()[2].startswith("| crm | 1 | ")

    # a backfill without overwrite recomputes the partial day; the published days after it follow it
    mark_partial(config, before)
    assert backfill(start=before, end=after, config=str(config)) == [
        d.isoformat() for d in (before, day, after)
    ]
    assert runs(config)[-3:] == [(before, False), (day, False), (after, False)]
    # with no partial day left, the same backfill computes nothing
    assert backfill(start=before, end=after, config=str(config)) == []


def test_a_future_day_is_refused(prefect_server: None, sample_data: Path, make_config) -> None:
    from tasks.shared.errors import DataError

    config = make_config(sample_data)
    pipeline = load_config(config)
    tomorrow = pipeline.today() + timedelta(days=1)
    with pytest.raises(DataError) as error:
        daily_refresh(as_of=tomorrow, config=str(config))
    assert str(error.value) == (
        f"as_of {tomorrow} is in the future (today is {pipeline.today()} in Asia/Shanghai): "
        "a day can be computed once it has begun"
    )
    assert not pipeline.warehouse_path.exists()


def test_a_backfill_whose_later_days_pass_the_limit_is_refused_before_it_computes(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    from tasks.shared.errors import DataError

    config = make_config(sample_data, orchestration={"backfill_max_days": 2})
    first, second, third = (SAMPLE_END - timedelta(days=n) for n in (2, 1, 0))
    daily_refresh(as_of=second, config=str(config))
    daily_refresh(as_of=third, config=str(config))
    with pytest.raises(DataError) as error:
        backfill(start=first, end=first, config=str(config))
    assert str(error.value) == (
        f"backfill {first}..{first} comes before 2 published days, which would be recomputed after it "
        f"({second}..{third}): 3 days in all, more than orchestration.backfill_max_days = 2; "
        "raise the limit in the config to go ahead"
    )
    assert [day for day, _ in runs(config)] == [second, third]

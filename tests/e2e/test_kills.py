"""Kill tests: a real refresh, SIGKILLed at each stage, leaves the published state intact and reruns clean.

Each refresh runs the real flow (daily_refresh, backfill) under the session's Prefect test server, in
a process forked from a forkserver that imported the product once (a fresh interpreter takes ~10 s to
import it). The process kills itself with SIGKILL at a named point (KILL_POINTS): a patch installed in
that process only wraps a product function and kills when it reaches the point, so the kill is
deterministic and no hook is needed in the product.

After each kill: the previous day's published rows and export files are byte-identical; the day
being computed is invisible when the kill came before the publish committed (no published rows, no
exports/<day> link, no complete version) and consistent when it came after (rows and the linked
manifest agree, or the committed version waits for the next run to link it); no transcoded copy of a
source file is left. After the rerun: the day equals a clean run's (hash of the published rows),
the previous day is still byte-identical, and nothing private is left (.tmp folders and files,
temporary links, .extract-* folders).
"""

import hashlib
import json
import multiprocessing
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.newday import write_next_day
from flows.backfill import backfill
from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.backend import BACKEND, copy_warehouse
from tests.conftest import SAMPLE_END, write_config

DAY = SAMPLE_END  # published before every kill: "the previous day"
NEW = SAMPLE_END + timedelta(days=1)  # the day the killed runs compute (bench.newday's replayed day)
NEXT = SAMPLE_END + timedelta(days=2)  # a backfill's second day
PUBLISHED = (
    "published.customer_segments",
    "published.customer_tags",
    "published.segment_changes",
    "published.audience_members",
    "published.outreach",
    "published.campaign_outcomes",
)


# --- in the killed process ---------------------------------------------------------------------------


def die(work: Path, point: str) -> None:
    """Record which point was reached, then SIGKILL this process (no cleanup of any kind runs)."""
    (work / "killed-at").write_text(point, encoding="utf-8")
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, work: Path) -> None:
    """Install the patch that kills this process when it reaches point (see KILL_POINTS)."""
    import tasks.extract.raw
    import tasks.publish.exports
    from tasks.shared.warehouse import Warehouse

    exports = work / "exports"
    if point == "extract":  # DuckDB is reading the transcoded copy of the GBK CRM file
        real_read = tasks.extract.raw.read_file

        def read_file(
            wh: Any, source: Any, file: Any, work_dir: Path, load: Callable, *args: Any, **kwargs: Any
        ) -> Any:
            if source.encoding.lower() == "utf-8":
                return real_read(wh, source, file, work_dir, load, *args, **kwargs)
            return real_read(wh, source, file, work_dir, lambda *_: die(work, point), *args, **kwargs)

        tasks.extract.raw.read_file = read_file
    elif point == "dedupe":
        import tasks.dedupe  # killed inside the stage's transaction: identities resolved, golden record not built

        tasks.dedupe.build_customers = lambda *args, **kwargs: die(work, point)
    elif point in TABLE_POINTS:  # inside the stage's transaction, before this table is built
        real_build = Warehouse.build

        def build(self: Any, table: str, *args: Any, **kwargs: Any) -> int:
            if table == TABLE_POINTS[point]:
                die(work, point)
            return real_build(self, table, *args, **kwargs)

        Warehouse.build = build
    elif point in ("publish-files", "backfill-day2"):  # the first export file is written, the next is not
        real_write, day = tasks.publish.exports.write_file, (NEW if point == "publish-files" else NEXT)
        calls = []

        def write_file(frame: Any, path: Path) -> None:
            if f"/.versions/{day.isoformat()}/" in str(path):
                calls.append(path)
                if len(calls) == 2 or point == "backfill-day2":
                    die(work, point)
            real_write(frame, path)

        tasks.publish.exports.write_file = write_file
    elif point == "publish-version":  # the version folder renamed from .<version>.tmp, the link not switched
        real_rename = os.rename

        def rename(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            real_rename(src, dst, *args, **kwargs)
            if Path(src).parent == exports / ".versions" / NEW.isoformat() and str(src).endswith(".tmp"):
                die(work, point)

        os.rename = rename
    elif point == "publish-switched":  # right after exports/<day> was switched
        real_replace = os.replace

        def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            real_replace(src, dst, *args, **kwargs)
            if Path(dst) == exports / NEW.isoformat():
                die(work, point)

        os.replace = replace
    elif point != "none":
        raise ValueError(point)


def child(api: str, config: str, work: str, point: str, days: tuple[str, ...]) -> None:
    """The refresh process: output to a log file, the kill point armed, then the real flow."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    log = os.open(Path(work) / f"run-{point}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    arm(point, Path(work))
    with temporary_settings({PREFECT_API_URL: api}):
        if len(days) == 1:
            daily_refresh(as_of=date.fromisoformat(days[0]), config=config)
        else:
            backfill(start=date.fromisoformat(days[0]), end=date.fromisoformat(days[1]), config=config)


# The dedupe kill point is its last step (core.customers, the golden record): on an incremental day the
# identity map is updated in place, not built, so no table build of the stage is sure to come late in it.
TABLE_POINTS = {
    "features": "features.customer_features",
    "predict": "predict.customer_predictions",
    "segment": "segments.customer_segments",
    "act": "act.audience_members",
}
# point -> whether the publish of the killed day had committed when the process died
KILL_POINTS = {
    "extract": False,
    "dedupe": False,
    "features": False,
    "predict": False,
    "segment": False,
    "act": False,
    "publish-files": False,
    "publish-version": True,
    "publish-switched": True,
}


# --- in the test -------------------------------------------------------------------------------------


class Runner:
    """Starts refresh processes from a forkserver that imported the product once."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload([__name__])

    def run(self, work: Path, days: tuple[date, ...], point: str = "none") -> None:
        """One flow run over work's config; killed at point (it must get there) or completed."""
        process = self.context.Process(
            target=child,
            args=(self.api, str(work / "config.yaml"), str(work), point, tuple(d.isoformat() for d in days)),
        )
        process.start()
        process.join(timeout=300)
        if process.is_alive():
            process.kill()
            process.join()
        log = (work / f"run-{point}.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        expected = 0 if point == "none" else -signal.SIGKILL
        assert process.exitcode == expected, f"{point}: exit code {process.exitcode}\n{log}"
        if point != "none":
            assert (work / "killed-at").read_text(encoding="utf-8") == point
            (work / "killed-at").unlink()


@pytest.fixture(scope="module")
def runner(prefect_server: None) -> Runner:
    """The forkserver's runner, pointed at the session's Prefect server."""
    from prefect.settings import PREFECT_API_URL

    return Runner(PREFECT_API_URL.value())


def copy_state(source: Path, target: Path, data: Path) -> Path:
    """A copy of a work folder (warehouse, exports with their links) with a config naming the copy."""
    shutil.copytree(
        source, target, symlinks=True, ignore=shutil.ignore_patterns("*.log", "config.yaml", "lake")
    )
    write_config(data, target)
    if BACKEND == "lake":  # a lake is its catalog and its files: copied through DuckDB
        copy_warehouse(load_config(source / "config.yaml"), load_config(target / "config.yaml"))
    return target


@pytest.fixture(scope="module")
def world(runner: Runner, sample_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """DAY published from the sample, then NEW's files added; a clean backfill of NEW and NEXT as reference."""
    root = tmp_path_factory.mktemp("kills")
    data = root / "data"
    shutil.copytree(sample_data, data)
    base = root / "base"
    write_config(data, base)
    runner.run(base, (DAY,))
    write_next_day(data, SAMPLE_END)  # NEW's rows, in new files (the CRM one in GBK)
    clean = copy_state(base, root / "clean", data)
    runner.run(clean, (NEW, NEXT))
    return {
        "root": root,
        "data": data,
        "base": base,
        "clean": {day: published_rows(clean, day) for day in (NEW, NEXT)},
        "clean_files": export_files(clean, NEW),
    }


def connect(work: Path) -> duckdb.DuckDBPyConnection:
    """The work folder's warehouse, read-only (closed before the next refresh starts)."""
    if BACKEND == "lake":
        return Warehouse.open(load_config(work / "config.yaml"), read_only=True).con
    return duckdb.connect(str(work / "warehouse.duckdb"), read_only=True)


def published_rows(work: Path, day: date) -> tuple[int, str]:
    """The day's published rows (every published table, run ids aside): (customer rows, SHA-256)."""
    digest = hashlib.sha256()
    with connect(work) as con:
        for table in PUBLISHED:
            columns = [
                name for (name,) in con.execute(f"select column_name from (describe {table})").fetchall()
            ]
            kept = ", ".join(f'"{c}"' for c in columns if c != "run_id")
            rows = con.execute(f"select {kept} from {table} where as_of = ? order by all", [day]).fetchall()
            digest.update(repr((table, rows)).encode())
        count = con.execute(
            "select count(*) from published.customer_segments where as_of = ?", [day]
        ).fetchone()
    return count[0], digest.hexdigest()


def latest_run(work: Path, day: date) -> str | None:
    """The run id of the day's latest publish, if any."""
    with connect(work) as con:
        row = con.execute(
            "select run_id from published.runs where as_of = ? order by published_at desc limit 1", [day]
        ).fetchone()
    return row[0] if row else None


def recorded_versions(work: Path, day: date) -> set[str]:
    """The export versions the day's publishes committed (recorded in published.runs)."""
    with connect(work) as con:
        columns = {
            name for (name,) in con.execute("select column_name from (describe published.runs)").fetchall()
        }
        if "export_version" not in columns:
            return set()
        rows = con.execute("select export_version from published.runs where as_of = ?", [day]).fetchall()
    return {version for (version,) in rows if version}


def export_files(work: Path, day: date) -> dict[str, str]:
    """Every file kept for a day (all versions) and the day's link, as relative path -> SHA-256 / target."""
    exports = work / "exports"
    files = {
        str(p.relative_to(exports)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((exports / ".versions" / day.isoformat()).rglob("*"))
        if p.is_file()
    }
    link = exports / day.isoformat()
    files["link"] = os.readlink(link) if link.is_symlink() else "none"
    return files


def complete_versions(work: Path, day: date) -> list[str]:
    """Version folders of a day that look complete: a visible name and a manifest."""
    folder = work / "exports" / ".versions" / day.isoformat()
    return sorted(p.parent.name for p in folder.glob("*/manifest.json") if not p.parent.name.startswith("."))


def private_leftovers(work: Path) -> list[str]:
    """Temporary folders, files and links under exports, and extract work folders beside the warehouse."""
    found = [str(p.relative_to(work)) for p in work.glob(".extract-*")]
    found += [
        str(p.relative_to(work))
        for p in (work / "exports").rglob(".*")
        if p.name != ".versions" and (p.name.endswith((".tmp", ".link")) or p.parent.name == "exports")
    ]
    return sorted(found)


def assert_invisible(work: Path, day: date) -> None:
    """Nothing of day is published: no rows, no run, no link, no complete version."""
    assert published_rows(work, day)[0] == 0
    assert latest_run(work, day) is None
    assert not os.path.lexists(work / "exports" / day.isoformat())
    assert complete_versions(work, day) == []


def assert_linked_consistently(work: Path, day: date) -> None:
    """exports/<day> is the version of the day's latest publish and holds its rows."""
    link = work / "exports" / day.isoformat()
    manifest = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["run_id"] == latest_run(work, day)
    assert manifest["row_counts"]["customer_segments"] == published_rows(work, day)[0] > 0


@pytest.fixture
def scenario(world: dict[str, Any], request: pytest.FixtureRequest) -> Iterator[Path]:
    """A private copy of the state with DAY published and NEW's files present."""
    # a plain name: polars reads `[...]` in an export path as a glob (tasks/publish/audits.py)
    name = "kill-" + (request.node.callspec.id if hasattr(request.node, "callspec") else "backfill")
    yield copy_state(world["base"], world["root"] / name, world["data"])


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_a_refresh_killed_at_any_point_leaves_published_state_intact(
    runner: Runner, world: dict[str, Any], scenario: Path, point: str
) -> None:
    work = scenario
    before = published_rows(work, DAY), export_files(work, DAY)

    runner.run(work, (NEW,), point)
    assert (published_rows(work, DAY), export_files(work, DAY)) == before
    assert list(work.glob(".extract-*")) == []  # no plain-text copy of a source file, even now
    if not KILL_POINTS[point]:
        assert_invisible(work, NEW)
    else:  # committed before the kill: the rows are the day's, and no link shows other files
        assert published_rows(work, NEW) == world["clean"][NEW]
        if os.path.lexists(work / "exports" / NEW.isoformat()):
            assert_linked_consistently(work, NEW)
        assert set(complete_versions(work, NEW)) <= recorded_versions(work, NEW)  # none that did not commit

    runner.run(work, (NEW,))
    assert published_rows(work, NEW) == world["clean"][NEW]
    assert_linked_consistently(work, NEW)
    assert (published_rows(work, DAY), export_files(work, DAY)) == before
    assert private_leftovers(work) == []


def test_a_backfill_killed_in_its_second_day_resumes_to_a_clean_result(
    runner: Runner, world: dict[str, Any], scenario: Path
) -> None:
    work = scenario
    runner.run(work, (NEW, NEXT), "backfill-day2")
    first_day = export_files(work, NEW)
    assert published_rows(work, NEW) == world["clean"][NEW]
    assert_linked_consistently(work, NEW)
    data_files = ("customer_segments.csv", "customer_segments.parquet", "segment_sizes.csv")
    clean_data = {k.rsplit("/", 1)[1]: v for k, v in world["clean_files"].items() if k.endswith(data_files)}
    assert {k.rsplit("/", 1)[1]: v for k, v in first_day.items() if k.endswith(data_files)} == clean_data
    assert_invisible(work, NEXT)

    runner.run(work, (NEW, NEXT))  # resumes after NEW
    assert export_files(work, NEW) == first_day
    assert published_rows(work, NEXT) == world["clean"][NEXT]
    assert_linked_consistently(work, NEXT)
    assert private_leftovers(work) == []

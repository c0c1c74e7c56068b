"""The `segments` command line: run the daily refresh, backfill, show what is published, erase a customer.

Every command that computes calls the same Prefect flows the deployments run. `segments demo` is the
quickstart: it writes sample data with the sample generator (sampledata), then runs. The development
tools live apart: `python -m sampledata`, `python -m evaluation score`, `python -m bench.dedupe`.
"""

import os
import signal

# Quiet, patient defaults for a local run; a user's own settings win.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

import importlib.metadata  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, NoReturn, TypeVar  # noqa: E402

import typer  # noqa: E402

from flows.console import (  # noqa: E402
    CLI_LOGGER,
    configure_logging,
    interrupted,
    log_path,
    lost_connection,
    lost_server_advice,
    prefect_server,
)
from flows.run_summary import print_summary  # noqa: E402
from flows.shutdown import silence_teardown_noise  # noqa: E402
from tasks.shared.config import ConfigError, PipelineConfig, load_config  # noqa: E402
from tasks.shared.errors import DAMAGED_FILE_ADVICE, DataError, first_line, is_damaged_file  # noqa: E402
from tasks.shared.text import counted  # noqa: E402
from tasks.shared.warehouse import Warehouse  # noqa: E402

T = TypeVar("T")

app = typer.Typer(
    help="Precision customer database (精准客户库): extract, dedupe, profile, segment and publish customers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@dataclass
class Session:
    """Options of the whole command line (before the command's name)."""

    debug: bool = False


session = Session()

DirOption = Annotated[Path, typer.Option("--dir", help="Folder for the sample data, its config and outputs.")]
CustomersOption = Annotated[int, typer.Option(help="Number of true persons to generate.", min=1)]
SeedOption = Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")]
ConfigOption = Annotated[
    Path, typer.Option("--config", help="Pipeline config YAML.", exists=True, dir_okay=False)
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Day to compute (YYYY-MM-DD); default the last complete day (yesterday)."),
]
FullRefreshOption = Annotated[
    list[str] | None,
    typer.Option(
        "--full-refresh",
        help="Reload this source from scratch instead of only what is new (repeatable; 'all' for every source).",
    ),
]


def versions() -> str:
    """This program's version and those of the engines it runs on."""
    names = ("precision-segments", "prefect", "duckdb", "polars", "scikit-learn")
    mine, *others = (importlib.metadata.version(name) for name in names)
    return f"segments {mine} (" + ", ".join(f"{n} {v}" for n, v in zip(names[1:], others, strict=True)) + ")"


def show_version(value: bool) -> None:
    if value:
        typer.echo(versions())
        raise typer.Exit()


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks and every Prefect log line on the console.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=show_version, is_eager=True, help="Show the versions and exit."),
    ] = False,
) -> None:
    """Precision customer database (精准客户库): extract, dedupe, profile, segment and publish customers."""
    session.debug = debug


def parse_day(value: str | None) -> date | None:
    """A YYYY-MM-DD option value as a date."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _fail(error: Exception) -> NoReturn:
    """A config or data error: one line, exit code 2 (the traceback only with --debug)."""
    if session.debug:
        traceback.print_exception(error)
    typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=2)


def _crash(error: Exception, log_file: Path, advice: str | None = None) -> NoReturn:
    """Any other failure: a short message, what to do when known, and where the full log is; exit code 1."""
    logging.getLogger(CLI_LOGGER).error("command failed", exc_info=error)
    if session.debug:
        traceback.print_exception(error)
    typer.secho(f"error: {type(error).__name__}: {first_line(error)}", err=True, fg=typer.colors.RED)
    if advice is None and is_damaged_file(error):
        advice = DAMAGED_FILE_ADVICE
    if advice is not None:
        typer.secho(advice, err=True)
    typer.secho(f"The full log, with the traceback: {log_file} (or run again with --debug)", err=True)
    raise typer.Exit(code=1)


def checked_config(
    config: Path, sources: bool = True, full_refresh: list[str] | None = None
) -> PipelineConfig:
    """The config, loaded and checked before any flow starts: schema, and with sources the preflight of
    every source (files, headers, mappings on a sample; full_refresh: the sources the run reads again from
    scratch). Problems end the command with exit code 2."""
    from tasks.extract.preflight import preflight
    from tasks.shared.rfm_names import unknown_rfm_segments

    try:
        pipeline = load_config(config)
    except ConfigError as error:
        _fail(error)
    problems = unknown_rfm_segments(pipeline) + (
        preflight(pipeline, full_refresh=full_refresh or ()) if sources else []
    )
    warnings = [
        problem for problem in problems if getattr(problem, "warning", False)
    ]  # the RFM names are text
    for warning in warnings:
        typer.secho(f"warning: {warning}", err=True, fg=typer.colors.YELLOW)
    problems = [problem for problem in problems if problem not in warnings]
    if problems:
        for problem in problems:
            typer.secho(f"error: {problem}", err=True, fg=typer.colors.RED)
        found = counted(len(problems), "problem")
        typer.secho(f"{found} found checking {config} and its sources' files; nothing was run.", err=True)
        raise typer.Exit(code=2)
    return pipeline


INTERRUPTED = (
    "the run was stopped by a signal (SIGTERM, as `kill`, a scheduler or a cancelled Prefect run sends); the stage "
    "it was in committed nothing, and the lock is released: run the same command again"
)


def stop_on_sigterm(signum: int | None = None, frame: object = None) -> NoReturn:
    """SIGTERM outside a flow's own handling, and after it (Prefect's handler marks the run crashed, then sends the
    signal again to the handler before it), or a query it interrupted: exit 143 through SystemExit, so that the exit
    handlers run and the temporary Prefect server this command started stops with it (the signal's default action
    left it running)."""
    typer.secho(f"stopped: {INTERRUPTED}", err=True, fg=typer.colors.RED)
    raise SystemExit(143)


def run_flow(pipeline: PipelineConfig, call: Callable[[], T]) -> T:
    """Call a flow, logging to the warehouse's log file and reporting to a running Prefect server if any."""
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    log_file = log_path(pipeline.warehouse_path)
    configure_logging(log_file, session.debug)
    logging.getLogger(CLI_LOGGER).info("log file %s", log_file)
    url = None
    try:
        with prefect_server(
            lambda found: typer.echo(
                f"Prefect server: {found} (the run shows in its UI)"
                if found
                else "No Prefect server running here: starting a temporary one (5 to 20 s)"
            )
        ) as url:
            return call()
    except (ConfigError, DataError) as error:
        _fail(error)
    except Exception as error:
        if interrupted(error):
            logging.getLogger(CLI_LOGGER).error("run stopped by a signal", exc_info=error)
            stop_on_sigterm()
        _crash(error, log_file, lost_server_advice(url) if url and lost_connection(error) else None)


@app.command()
def run(
    config: ConfigOption,
    as_of: AsOfOption = None,
    full_refresh: FullRefreshOption = None,
    refit: Annotated[
        bool, typer.Option(help="Fit every model again today instead of on its schedule (refit_every_days).")
    ] = False,
) -> None:
    """Run the daily refresh flow for one day (checks the config and every source first)."""
    from flows.daily_refresh import daily_refresh

    day = parse_day(as_of)
    pipeline = checked_config(config, full_refresh=full_refresh)
    if day is not None and day > pipeline.today():
        _fail(
            DataError(f"--as-of {day} is in the future (today is {pipeline.today()} in {pipeline.timezone})")
        )
    unknown = set(full_refresh or []) - {s.name for s in pipeline.sources} - {"all"}
    if unknown:
        from tasks.extract.load_state import loaded_files

        # a source the warehouse holds that the config no longer names: its full refresh removes its rows
        unknown -= set((loaded_files(pipeline) or ({}, {}))[0])
    if unknown:
        _fail(
            ConfigError(
                f"--full-refresh: no source named {', '.join(sorted(unknown))} in {config} or its warehouse"
            )
        )
    summary = run_flow(
        pipeline,
        lambda: daily_refresh(as_of=day, config=str(config), full_refresh=full_refresh or None, refit=refit),
    )
    print_summary(summary)


@app.command()
def check(config: ConfigOption) -> None:
    """Check the config and every source without running anything: schema, files, headers, mappings."""
    started = time.monotonic()
    pipeline = checked_config(config)
    typer.echo(
        f"{config}: OK — {len(pipeline.sources)} sources checked "
        f"(files, headers, mappings on a sample of rows) in {time.monotonic() - started:.1f} s"
    )


@app.command()
def demo(
    directory: DirOption = Path("demo-data"),
    customers: CustomersOption = 2000,
    seed: SeedOption = 42,
) -> None:
    """Generate sample data up to yesterday and run the daily refresh of yesterday: the whole product in one command."""
    from sampledata.cli import today, write_and_report

    as_of = today() - timedelta(days=1)  # the last complete day, as a scheduled run computes it
    try:
        write_and_report(directory, customers, seed, as_of)
    except ValueError as error:
        _fail(error)
    run(config=directory / "config.yaml", as_of=as_of.isoformat(), full_refresh=None, refit=False)


@app.command()
def backfill(
    config: ConfigOption,
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD), inclusive.")],
    overwrite: Annotated[bool, typer.Option(help="Recompute days already published.")] = False,
) -> None:
    """Run the daily refresh for every day from start to end, oldest first (published days skipped unless
    --overwrite); when it computed a day, the published days after it are recomputed too (they build on it)."""
    from flows.backfill import backfill as backfill_flow
    from flows.backfill import backfill_days

    first, last = parse_day(start), parse_day(end)
    pipeline = checked_config(config)
    try:  # the range's own errors before a Prefect server starts
        backfill_days(first, last, pipeline.today(), pipeline.orchestration.backfill_max_days)
    except DataError as error:
        _fail(error)
    done = run_flow(
        pipeline, lambda: backfill_flow(start=first, end=last, overwrite=overwrite, config=str(config))
    )
    typer.echo(f"Backfill {start}..{end}: computed {len(done)} day(s): {', '.join(done) or 'none'}")


@contextmanager
def published_warehouse(pipeline: PipelineConfig, table: str) -> Iterator[Warehouse]:
    """The warehouse opened read-only, or a DataError when it or its published table does not exist yet."""
    if not pipeline.warehouse_path.exists():
        raise DataError(f"no warehouse at {pipeline.warehouse_path} yet: run `segments run` first")
    with Warehouse.open(pipeline, read_only=True) as wh:
        if not wh.table_exists(table):
            raise DataError(f"nothing published in {pipeline.warehouse_path} yet")
        yield wh


def read_published(
    config: Path, table: str, read: Callable[[PipelineConfig, Warehouse], T], locked_hint: str = ""
) -> T:
    """What read returns from the warehouse opened read-only (published_warehouse); a config or data error,
    or the warehouse locked by a run writing it (then named, and locked_hint added), ends the command."""
    from tasks.shared.lock import lock_holder
    from tasks.shared.warehouse import WarehouseLockedError

    try:
        pipeline = load_config(config)
        with published_warehouse(pipeline, table) as wh:
            return read(pipeline, wh)
    except WarehouseLockedError:
        holder = lock_holder(pipeline.warehouse_path)
        _fail(DataError(f"the warehouse is being written right now by {holder}{locked_hint}"))
    except (ConfigError, DataError) as error:
        _fail(error)


@app.command()
def profile(
    config: ConfigOption,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Published day (YYYY-MM-DD); default the latest.")
    ] = None,
    customer_id: Annotated[
        str | None,
        typer.Argument(help="A customer id (or source:source_id): show that customer's profile instead."),
    ] = None,
) -> None:
    """Show what is published: segment sizes of a day and the latest runs, or one customer's profile (read-only)."""
    if customer_id is not None:
        return customer_profile(config, customer_id, as_of)

    def published(pipeline: PipelineConfig, wh: Warehouse) -> tuple[date, bool, list[tuple], list[tuple]]:
        shown = parse_day(as_of) or wh.scalar("select max(as_of) from published.runs")
        if not wh.scalar("select count(*) from published.runs where as_of = ?", [shown]):
            first, last, days = wh.rows(
                "select min(as_of), max(as_of), count(distinct as_of) from published.runs"
            )[0]
            raise DataError(
                f"nothing published as of {shown} in {pipeline.warehouse_path}: "
                f"{counted(days, 'day')} published, {first} to {last}"
            )
        sizes = [tuple(row.values()) for row in wh.select("published/segment_sizes", {"as_of": shown})]
        # a warehouse written before partial days were recorded has no such column (opened read-only here)
        flag = "partial" if "partial" in wh.columns("published.runs") else "false"
        runs = wh.rows(
            f"select as_of, run_id, rows, published_at, {flag} from published.runs "
            "order by published_at desc limit 5"
        )
        # the model, not tasks.publish.tables: the stage package would load Prefect (seconds) to read a table
        partial = flag == "partial" and (shown,) in wh.rows(wh.model_sql("published/partial_days"))
        return shown, partial, sizes, runs

    shown, partial, sizes, runs = read_published(
        config, "published.runs", published, "; try again when it has finished"
    )
    typer.echo(f"Published segments as of {shown}: {sum(n for *_, n in sizes):,} customers")
    if partial:
        typer.secho(
            f"  partial: {shown} had not ended when it was published; the first run after it ends publishes it again",
            fg=typer.colors.YELLOW,
        )
    for name, label, count in sizes:
        typer.echo(f"  {name:<20} {count:>9,}  {label or ''}")
    typer.echo("\nLatest runs:")
    for run_day, run_id, rows, published_at, was_partial in runs:
        typer.echo(
            f"  {run_day}  {rows:>9,} rows  {published_at:%Y-%m-%d %H:%M:%S %Z}  run {run_id}"
            + ("  (partial day)" if was_partial else "")
        )


@app.command()
def explain(
    config: ConfigOption,
    first: Annotated[str, typer.Argument(help="A customer record as source:source_id.")],
    second: Annotated[str, typer.Argument(help="Another customer record as source:source_id.")],
) -> None:
    """Explain how the matcher scores two customer records, linked or not: each comparison's match weight (read-only)."""
    from tasks.dedupe.explain import explain_pair, parse_record, render_explanation

    text = read_published(
        config,
        "core.identity_map",
        lambda pipeline, wh: render_explanation(
            explain_pair(wh, pipeline, parse_record(first), parse_record(second))
        ),
    )
    typer.echo(text, nl=False)


@app.command()
def erase(
    config: ConfigOption,
    customer_id: Annotated[
        str,
        typer.Option(
            "--customer-id",
            help="A customer id of the person to erase (an id merged into another erases that person); "
            "segments profile SOURCE:SOURCE_ID shows a record's id.",
        ),
    ],
) -> None:
    """Erase one customer from every layer, published history and export files (idempotent)."""
    pipeline = checked_config(config, sources=False)
    refuse_unknown_customer(pipeline, customer_id)
    from flows.erase import erase as erase_flow  # after the check: it loads Prefect
    from tasks.erase.tables import FITTED_MODELS

    result = run_flow(pipeline, lambda: erase_flow(customer_id=customer_id, config=str(config)))
    fitted = {table: rows for table, rows in result["tables"].items() if table in FITTED_MODELS}
    person = {table: rows for table, rows in result["tables"].items() if table not in FITTED_MODELS}
    typer.echo(
        f"Erased {customer_id}: {sum(person.values()):,} rows of theirs from {len(person)} tables "
        f"({result['customer_ids']} customer ids), {len(result['files'])} files rewritten or removed; "
        f"{sum(fitted.values()):,} rows of fitted models and match state learnt from everyone dropped "
        "(the next run fits them again); warehouse compacted (recorded in audit.erasures)"
    )


def refuse_unknown_customer(pipeline: PipelineConfig, customer_id: str) -> None:
    """End the command in one line (exit code 2) when no customer ever had customer_id, read-only and before
    any flow or Prefect server starts; a warehouse being written is left to the flow, which waits for it."""
    import duckdb

    from tasks.erase.person import find_person
    from tasks.shared.warehouse import WarehouseLockedError

    if not pipeline.warehouse_path.exists():
        _fail(DataError(f"no warehouse at {pipeline.warehouse_path} yet: nothing to erase"))
    try:
        with Warehouse.open(pipeline, read_only=True) as wh:
            find_person(wh, customer_id)
    except DataError as error:
        _fail(error)
    except (WarehouseLockedError, ConfigError, duckdb.Error):
        # a writer holds the file, or a lake's catalog needs the Prefect server (a secret block): the flow,
        # which waits for the writer and reaches the server, checks the id itself
        return


def customer_profile(config: Path, customer_id: str, as_of: str | None) -> None:
    """Print one customer's identities, golden record, features, segments and tags (read-only)."""
    from tasks.publish.profile import customer_profile as load_profile
    from tasks.publish.profile import render_profile

    text = read_published(
        config,
        "published.customer_segments",
        lambda _, wh: render_profile(load_profile(wh, customer_id, parse_day(as_of))),
    )
    typer.echo(text, nl=False)


def main() -> None:
    """Entry point of the `segments` console script."""
    try:
        app()
    except SystemExit:
        silence_teardown_noise()
        raise
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        silence_teardown_noise()
        raise SystemExit(130) from None
    except Exception as error:  # outside a flow (the flows' own failures are handled in run_flow)
        if session.debug:
            traceback.print_exc()
        typer.secho(
            f"error: {type(error).__name__}: {error} (run again with --debug for the traceback)", err=True
        )
        if is_damaged_file(error):
            typer.secho(DAMAGED_FILE_ADVICE, err=True)
        silence_teardown_noise()
        raise SystemExit(1) from None
    silence_teardown_noise()


if __name__ == "__main__":
    main()

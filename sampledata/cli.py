"""`python -m sampledata`: write the sample 棋牌 platform's source files and their config into a folder."""

from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from flows.cli import parse_day
from sampledata.generate import write_sample

PLATFORM_TIMEZONE = "Asia/Shanghai"  # the sample platform's local time (the demo config's time zone)

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def today() -> date:
    """Today in the sample platform's time zone."""
    return datetime.now(ZoneInfo(PLATFORM_TIMEZONE)).date()


def write_and_report(
    directory: Path, customers: int, seed: int, end: date, difficulty: str = "default"
) -> None:
    """Generate with the demo config into directory and print the rows per source (ValueError when refused)."""
    stats = write_sample(directory, customers=customers, seed=seed, end=end, difficulty=difficulty)
    if stats.removed:
        typer.echo(
            f"{directory} held another sample: removed what was built from it ({', '.join(stats.removed)}), "
            "so the new one starts a warehouse of its own"
        )
    typer.echo(f"Generated {stats.persons:,} persons under {directory.resolve()}:")
    for source, rows in stats.rows.items():
        typer.echo(f"  {source:<10} {rows:>12,} rows")
    if stats.corruptions:
        made = ", ".join(f"{kind} {count:,}" for kind, count in stats.corruptions.items())
        typer.echo(f"CRM corruptions (persons: family_phone, lookalike, latin_name; rows: the rest): {made}")
    typer.echo(f"Config: {(directory / 'config.yaml').resolve()}")


@app.command()
def main(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder for the sample data and its config.")
    ] = Path("demo-data"),
    customers: Annotated[int, typer.Option(help="Number of true persons to generate.", min=1)] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 42,
    end: Annotated[str | None, typer.Option(help="Last day of data (YYYY-MM-DD); default today.")] = None,
    difficulty: Annotated[
        str,
        typer.Option(
            help="default; hard: more CRM duplicates that share no phone or e-mail; adversarial: hard plus "
            "typos, nicknames, swapped names, wrong birth dates, blank fields, shared family phones and look-alikes."
        ),
    ] = "default",
) -> None:
    """Generate sample 棋牌 platform data (CRM, game sessions, payments, social, survey) and its config."""
    try:
        write_and_report(directory, customers, seed, parse_day(end) or today(), difficulty)
    except ValueError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None

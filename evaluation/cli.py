"""`python -m evaluation score`: extract and dedupe a config's sources, then score them against ground truth."""

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from evaluation.linkage import score_resolution
from flows.cli import parse_day
from tasks.shared.config import ConfigError, load_config
from tasks.shared.errors import DataError

app = typer.Typer(
    help="Evidence for identity resolution: accuracy against ground truth.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def evaluation() -> None:
    """Evidence for identity resolution: accuracy against ground truth."""


@app.command()
def score(
    config: Annotated[
        Path, typer.Option("--config", help="Pipeline config YAML.", exists=True, dir_okay=False)
    ],
    truth: Annotated[
        str | None,
        typer.Option(help="SQL expression over a raw customers row giving its true identity, e.g. cluster."),
    ] = None,
    truth_file: Annotated[
        Path | None,
        typer.Option(
            help="CSV of source, record_id, person_id (the generator's truth/records.csv).", exists=True
        ),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to resolve (YYYY-MM-DD); default today.")
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            help="New warehouse file to build (kept to look into); default one in a temporary folder."
        ),
    ] = None,
) -> None:
    """Extract and dedupe a config's sources, then print pairwise precision, recall and F1 against ground truth."""
    try:
        if warehouse is not None and warehouse.exists():
            raise ValueError(
                f"{warehouse} exists: the evaluation builds a new warehouse and never writes into an existing "
                "one; give a path that does not exist yet"
            )
        pipeline = load_config(config)
        with tempfile.TemporaryDirectory(prefix="dedupe-score-") as scratch:
            target = warehouse.resolve() if warehouse else Path(scratch) / "warehouse.duckdb"
            pipeline = pipeline.model_copy(update={"warehouse": target})
            day = parse_day(as_of) or pipeline.today()
            result = score_resolution(pipeline, day, truth, truth_file)
    except (ConfigError, DataError, ValueError) as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    scores, dedupe = result.scores, result.dedupe
    typer.echo(f"Identity resolution of {config} scored against ground truth")
    typer.echo(f"  records scored   {scores['items']:>10,}")
    typer.echo(f"  true pairs       {scores['true_pairs']:>10,}")
    typer.echo(f"  predicted pairs  {scores['predicted_pairs']:>10,}  ({scores['correct_pairs']:,} correct)")
    typer.echo(f"  precision        {scores['precision']:>10.4f}")
    typer.echo(f"  recall           {scores['recall']:>10.4f}")
    typer.echo(f"  F1               {scores['f1']:>10.4f}")
    typer.echo(
        f"  customers {dedupe.customers:,} from {dedupe.records:,} records; candidate pairs "
        f"{dedupe.candidate_pairs:,}, probabilistic links {dedupe.probabilistic_links:,}"
    )
    typer.echo(f"  extract: {result.extract.text()}; dedupe: {result.resolve.text()}")
    for cluster in dedupe.suspicious_clusters:
        typer.echo(f"  suspicious: {cluster}")

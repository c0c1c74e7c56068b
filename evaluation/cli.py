"""`python -m evaluation`: score a config's identity resolution against ground truth; make evaluation sets.

`score` extracts and dedupes a config's sources and scores them (pairwise and cluster-level);
`make-set` writes a generated evaluation set with ground truth and its config into a folder.
"""

import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from evaluation.datasets import DEFAULT_SEED, SETS, make_set
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
    """Extract and dedupe a config's sources, then print pairwise and cluster scores against ground truth."""
    try:
        day = parse_day(as_of)
        if day is not None and day > date.today() + timedelta(days=1):
            raise ValueError(
                f"--as-of {day} is in the future (today is {date.today()}): records seen by then are unknown"
            )
        if warehouse is not None and warehouse.exists():
            raise ValueError(
                f"{warehouse} exists: the evaluation builds a new warehouse and never writes into an existing "
                "one; give a path that does not exist yet"
            )
        pipeline = load_config(config)
        with tempfile.TemporaryDirectory(prefix="dedupe-score-") as scratch:
            target = warehouse.resolve() if warehouse else Path(scratch) / "warehouse.duckdb"
            pipeline = pipeline.model_copy(update={"warehouse": target})
            day = day or pipeline.today()
            result = score_resolution(pipeline, day, truth, truth_file)
    except (ConfigError, DataError, ValueError) as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    scores, clusters, dedupe = result.scores, result.clusters, result.dedupe
    typer.echo(f"Identity resolution of {config} scored against ground truth")
    typer.echo(f"  records scored   {scores['items']:>10,}")
    typer.echo(f"  true pairs       {scores['true_pairs']:>10,}")
    typer.echo(f"  predicted pairs  {scores['predicted_pairs']:>10,}  ({scores['correct_pairs']:,} correct)")
    typer.echo(f"  precision        {scores['precision']:>10.4f}")
    typer.echo(f"  recall           {scores['recall']:>10.4f}")
    typer.echo(f"  F1               {scores['f1']:>10.4f}")
    typer.echo(
        f"  clusters         {clusters['predicted_clusters']:>10,}  predicted, {clusters['true_clusters']:,} true, "
        f"{clusters['exact_clusters']:,} exactly right"
    )
    typer.echo(
        f"  cluster P / R    {clusters['cluster_precision']:>10.4f} / {clusters['cluster_recall']:.4f}"
    )
    typer.echo(
        f"  B-cubed P / R    {clusters['bcubed_precision']:>10.4f} / {clusters['bcubed_recall']:.4f}"
        f"  (F1 {clusters['bcubed_f1']:.4f})"
    )
    typer.echo(
        f"  customers {dedupe.customers:,} from {dedupe.records:,} records; candidate pairs "
        f"{dedupe.candidate_pairs:,}, probabilistic links {dedupe.probabilistic_links:,}"
    )
    if dedupe.blocking:
        typer.echo(f"  blocking: {blocking_text(dedupe.blocking)}")
    if dedupe.unreadable_values:
        typer.echo(f"  unreadable: {unreadable_text(dedupe.unreadable_values)}")
    typer.echo(f"  extract: {result.extract.text()}; dedupe: {result.resolve.text()}")
    for cluster in dedupe.suspicious_clusters:
        typer.echo(f"  suspicious: {cluster}")


def blocking_text(blocking: list[dict]) -> str:
    """The blocking rules chosen with the pairs each proposes, then those left out: one line."""
    chosen = [b for b in blocking if b["chosen"]]
    left_out = [b for b in blocking if not b["chosen"]]
    text = " · ".join(f"{b['rule']} {b['pairs']:,}" for b in chosen) or "none"
    text += f" ({len(chosen)} of {len(blocking)} rules"
    if left_out:
        text += "; not chosen: " + " · ".join(f"{b['rule']} {b['pairs']:,}" for b in left_out)
    return text + ")"


def unreadable_text(unreadable: dict[str, int]) -> str:
    """Per comparison, the records whose match-column value could not be read as its kind: one line."""
    return " · ".join(
        f"{name} {count:,} record{'' if count == 1 else 's'}" for name, count in unreadable.items()
    )


@app.command("make-set")
def make_set_command(
    kind: Annotated[str, typer.Argument(help=f"Which set: {' or '.join(SETS)}.")],
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Folder for the CSV files and config.yaml; default evaluation-data/<set>."
        ),
    ] = None,
    records: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Size: historical, records (default 10,000); transactions, true payments (default 5,000).",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same bytes.")
    ] = DEFAULT_SEED,
) -> None:
    """Write a generated evaluation set (CSV files with a ground truth column) and its config.yaml."""
    target = directory or Path("evaluation-data") / kind
    try:
        written = make_set(kind, target, records, seed)
    except ValueError as error:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    for path in written:
        typer.echo(f"wrote {path}")
    truth = SETS[kind].truth
    typer.echo(f"score it: python -m evaluation score --config {target / 'config.yaml'} --truth {truth}")


@app.command("predict")
def predict_command(
    customers: Annotated[int, typer.Option(min=1000, help="Persons to generate.")] = 50_000,
    end: Annotated[
        str, typer.Option(help="Last day of generated data and the as_of (YYYY-MM-DD).")
    ] = "2026-11-30",
    seed: Annotated[int, typer.Option(help="Generator seed; the same seed gives the same figures.")] = 42,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Keep the sample and its warehouse in this folder; default a temporary one."
        ),
    ] = None,
) -> None:
    """Backtest the predict stage on generated data with planted churn and compare it with the truth."""
    from evaluation.prediction import backtest_table, evaluate_predictions, mean_figures
    from sampledata.generate import write_sample

    as_of = parse_day(end)
    with tempfile.TemporaryDirectory(prefix="predict-eval-") as scratch:
        folder = directory or Path(scratch) / "sample"
        try:
            write_sample(folder, customers=customers, seed=seed, end=as_of)
        except ValueError as error:
            typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None
        figures = evaluate_predictions(folder, as_of)
    predict = figures["predict"]
    typer.echo(
        f"{customers:,} generated persons (seed {seed}), as_of {as_of}, horizon {predict['horizon_days']} days, "
        f"churn = no {predict['churn_activity']} in the horizon"
    )
    typer.echo(backtest_table(predict))
    typer.echo("\nmeans over the cutoffs:")
    for line in mean_figures(predict):
        typer.echo(line)
    typer.echo(f"\nchurn_risk comes from: {predict['churn_model']} ({predict['churn_model_reason']})")
    for skipped in predict["skipped"]:
        typer.echo(f"cutoff {skipped['cutoff']} not scored: {skipped['reason']}")
    typer.echo("\nagainst the planted truth (truth/lifetimes.csv), customers scored as of as_of:")
    for name, value in figures["planted"].items():
        shown = f"{value:.3f}" if isinstance(value, float) else "-" if value is None else f"{value:,}"
        typer.echo(f"  {name}: {shown}")


@app.command("campaign")
def campaign_command(
    customers: Annotated[int, typer.Option(min=1000, help="Persons to generate.")] = 30_000,
    entry: Annotated[str, typer.Option(help="Day the audiences are published (YYYY-MM-DD).")] = "2026-10-01",
    window: Annotated[int, typer.Option(min=1, max=90, help="Outcome window in days after entry.")] = 30,
    lift: Annotated[
        float,
        typer.Option(
            min=0.0, max=1.0, help="Share of treated members the planted campaign makes pay once more."
        ),
    ] = 0.15,
    seed: Annotated[int, typer.Option(help="Generator seed; the same seed gives the same figures.")] = 42,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Keep the sample and its warehouse in this folder; default a temporary one."
        ),
    ] = None,
) -> None:
    """Plant a campaign effect on generated data and check the campaign outcomes' intervals cover it."""
    from evaluation.campaign import campaign_table, evaluate_campaign
    from sampledata.generate import write_sample

    day = parse_day(entry)
    end = day + timedelta(days=window + 30)
    with tempfile.TemporaryDirectory(prefix="campaign-eval-") as scratch:
        folder = directory or Path(scratch) / "sample"
        try:
            write_sample(folder, customers=customers, seed=seed, end=end)
        except ValueError as error:
            typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None
        figures = evaluate_campaign(folder, day, window, lift, seed)
    typer.echo(
        f"{customers:,} generated persons (seed {seed}); audiences published {day}, outcomes {window} days later; "
        f"{figures['members']:,} entries, {figures['held_out']:,} held out; "
        f"planted payments for {figures['planted_payments']:,} treated members (lift {lift:.0%})"
    )
    table, counts = campaign_table(figures)
    typer.echo(table)
    given = counts["covers"] + counts["misses"]
    typer.echo(
        f"{counts['covers']} of {given} intervals cover their planted truth"
        + (
            f"; {counts['none']} estimates without an interval (too few entries on a side)"
            if counts["none"]
            else ""
        )
        + (f"; {counts['no_outcome']} without an outcome" if counts["no_outcome"] else "")
    )
    if counts["misses"] or counts["no_outcome"] or not counts["covers"]:
        raise typer.Exit(code=1)


@app.command("lookalike")
def lookalike_command(
    customers: Annotated[int, typer.Option(min=1000, help="Persons to generate.")] = 20_000,
    end: Annotated[
        str, typer.Option(help="Last day of generated data and the as_of (YYYY-MM-DD).")
    ] = "2026-11-30",
    seeds: Annotated[
        list[str] | None,
        typer.Option(
            "--seed", help="A seed segment to evaluate besides the config's lookalikes (scheme:segment)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Generator seed; the same seed gives the same figures.")] = 42,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Keep the sample in this folder; default a temporary one."),
    ] = None,
) -> None:
    """Lookalikes on generated data: the share of hidden seed members found in the top 5/10/20%."""
    from evaluation.lookalike import evaluate_sample
    from sampledata.generate import write_sample

    as_of = parse_day(end)
    default_seeds = ["rules:churn_warning", "rules:high_frequency_players", "rfm:Champions", "risk:low"]
    with tempfile.TemporaryDirectory(prefix="lookalike-eval-") as scratch:
        folder = directory or Path(scratch) / "sample"
        try:
            write_sample(folder, customers=customers, seed=seed, end=as_of)
        except ValueError as error:
            typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
            raise typer.Exit(code=2) from None
        typer.echo(evaluate_sample(folder / "config.yaml", as_of, default_seeds if seeds is None else seeds))


@app.command("recommend")
def recommend_command(
    customers: Annotated[int, typer.Option(min=100, help="Customers to plant.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the planted interactions.")] = 42,
) -> None:
    """Recommendations on planted taste groups: precision, recall, nDCG@5 and coverage against popularity."""
    from evaluation.recommend import evaluate_planted

    typer.echo(evaluate_planted(customers, seed))

"""What `segments run` prints after a run: rows per source, customers, segment sizes, clusters, outputs.

Read from the run summary the daily_refresh flow returns (tasks/publish/summary.py), not from the warehouse.
"""

from typing import Any

import typer

from tasks.shared.text import counted

# What the sources table adds after a source's counts, by its load status (loaded: nothing).
STATUS_NOTES = {
    "unchanged": "  nothing new",
    "removed": "  nothing new; files gone since the last load: their rows removed (the log names them)",
    "restaged": "  config changed: every row checked again (the counts are of all its rows)",
}


def source_lines(loads: list[dict[str, Any]]) -> list[str]:
    """The summary's table of sources: a header, then each source's counts and what its status adds."""
    lines = ["Sources             files read   rows read     staged  quarantined  duplicates  unattributed"]
    for load in loads:
        files = f"{load['files_loaded']}/{load['files']}"
        lines.append(
            f"  {load['source']:<18} {files:>10} {load['rows_read']:>11,} {load['rows_staged']:>10,} "
            f"{load['rows_quarantined']:>12,} {load['duplicates_dropped']:>11,} {load.get('rows_unattributed', 0):>13,}"
            + STATUS_NOTES.get(load["status"], "")
            + (
                f"  {counted(load['rows_erased'], 'row')} of erased people dropped"
                if load.get("rows_erased")
                else ""
            )
            + (
                f"  {counted(load['rows_filtered'], 'row')} left out by its where"
                if load.get("rows_filtered")
                else ""
            )
        )
    return lines


def dedupe_line(dedupe: dict[str, Any]) -> str:
    """Customers from records, and what merged them: a probabilistic link can join records an exact key already
    joined, so the records it alone merged are said beside the links."""
    dropped = dedupe.get("one_to_one_dropped")
    return (
        f"Customers after dedupe: {dedupe['customers']:,} from {dedupe['records']:,} customer records "
        f"({dedupe['merged_records']:,} records merged with another, "
        f"{dedupe.get('probabilistic_records', 0):,} of them by a probabilistic link only; "
        f"{dedupe['probabilistic_links']:,} probabilistic links"
        + (f", {dropped:,} left out by one_to_one" if dropped else "")
        + ")"
    )


def print_summary(summary: dict[str, Any]) -> None:
    """Print what a run did: rows per source, quarantine, customers, segment sizes, outputs."""
    typer.echo(f"\nDaily refresh as of {summary['as_of']} (run {summary['run_id']})")
    if summary.get("partial"):
        from tasks.publish.labels import partial_note  # the stage package loads Prefect: only when needed

        note = partial_note(summary["as_of"], summary.get("timezone", ""), "en", between="\n")
        typer.secho(note, fg=typer.colors.YELLOW)
    typer.echo("")
    for line in source_lines(summary["extract"]):
        typer.echo(line)
    typer.echo(
        "(unattributed: staged rows that name no customer, such as guest purchases; in staging.unattributed_*)"
    )
    total_quarantined = sum(load["rows_quarantined"] for load in summary["extract"])
    dedupe = summary["dedupe"]
    typer.echo(
        f"\nRows quarantined in this run: {total_quarantined:,} "
        "(all quarantined rows, with file, row, field and reason: table audit.quarantine)"
    )
    typer.echo(dedupe_line(dedupe))
    for name, count in (dedupe.get("unreadable_values") or {}).items():
        typer.echo(f"  {name}: {count:,} values the matcher could not read (compared as missing)")
    if dedupe.get("unusable_values"):
        typer.echo(
            "  values left out of matching and the golden record (invalid, implausible or a placeholder): "
            + ", ".join(f"{name} {count:,}" for name, count in dedupe["unusable_values"].items())
        )
    for line in dedupe.get("unmatched_refs") or []:
        typer.echo(f"  warning: {line}")
    if dedupe.get("unused_comparisons"):
        typer.echo(
            f"  comparisons without any value (they add nothing): {', '.join(dedupe['unused_comparisons'])}"
        )
    typer.echo(f"Customers with a purchase (RFM-scored): {summary['segments']['scored']:,}")
    typer.echo("\nRFM segments")
    labels = summary.get("segment_labels", {})
    for name, count in summary["segments"]["rfm_segments"].items():
        typer.echo(f"  {name:<20} {count:>9,}  {labels.get(name, '')}")
    typer.echo("\nClusters: " + ", ".join(f"{k}: {v:,}" for k, v in summary["segments"]["clusters"].items()))
    print_clusters_and_stability(summary["segments"])
    typer.echo(f"\nWarehouse: {summary['warehouse']}")
    if summary["publish"]["export_dir"] is None:
        typer.echo("Exports:   not written (the day is older than the days keep_export_days keeps)")
    else:
        typer.echo(f"Exports:   {summary['publish']['export_dir']}")
        typer.echo(f"Report:    {summary['publish']['report']}")
        if summary["publish"].get("report_html"):
            typer.echo(f"HTML report: {summary['publish']['report_html']}")
    changes = summary["publish"].get("changes") or {}
    since = summary["publish"].get("changes_since")
    if changes and since:
        typer.echo(
            f"Membership changes since {since}: "
            + ", ".join(f"{k} +{v['entered']:,}/-{v['exited']:,}" for k, v in changes.items())
        )
    elif changes:
        typer.echo("Membership changes: the first published day, every membership is new")


def print_clusters_and_stability(segments: dict[str, Any]) -> None:
    """Print the cluster names, the decision tree with its fidelity, and the stability report."""
    model = segments.get("cluster_model") or {}
    for c in model.get("clusters", []):
        typer.echo(f"  {c['cluster_id']:>3} {c['name_en']:<45} {c['size']:>9,}  {c['name_zh']}")
    if model.get("clusters"):
        typer.echo(f"\nDecision tree (fidelity {model['fidelity']:.1%}):\n{model['tree_rules'].rstrip()}")
    stability = segments.get("stability") or {}
    if stability.get("previous_as_of"):
        typer.echo(
            f"\nStability since {stability['previous_as_of']} (adjusted Rand index, customers changed)"
        )
        for s in stability["schemes"]:
            typer.echo(
                f"  {s['scheme']:<18} {s['ari']!s:>9} {s['changed']:>9,} of {s['customers_compared']:,}"
            )

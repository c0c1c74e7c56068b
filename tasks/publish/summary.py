"""The run summary artifact: the key figures of a publish, readable in the Prefect UI without opening a file.

A Prefect markdown artifact cannot open a local file (a file:// link does nothing there), so the
artifact carries the figures itself: customers published and scored, segment sizes, value tiers and
lifecycle stages, membership changes, quarantined rows; and names the export folder and the reports
as plain paths to copy.
"""

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from tasks.publish.labels import partial_notes
from tasks.segment.stability import previous_published_day
from tasks.shared.config import PipelineConfig
from tasks.shared.contracts import SEGMENT_SCHEMES
from tasks.shared.rfm_names import RFM_ZH
from tasks.shared.warehouse import Warehouse


def refresh_summary(
    config: PipelineConfig,
    as_of: date,
    run_id: str,
    stages: dict[str, Any],
    partial: bool = False,
) -> dict[str, Any]:
    """The run summary publish is given (the report, the artifact and the CLI read it): what the stages before
    it returned, by summary key (extract, dedupe, features, predict, segments, act), as plain dicts; built
    the same by the daily_refresh flow and by a day run without Prefect (flows/direct.py)."""
    return {
        "as_of": as_of.isoformat(),
        "partial": partial,
        "timezone": config.timezone,
        "currency": config.currency.base,  # the unit of every amount the report shows
        "run_id": run_id,
        "config_hash": config.config_hash(),
        "warehouse": str(config.warehouse_path),
        **stages,
        "segment_labels": dict(RFM_ZH),
    }


def summary_figures(
    wh: Warehouse,
    as_of: date,
    summary: dict[str, Any],
    changes: dict[str, dict[str, int]],
    export_dir: Path | None,
) -> dict[str, Any]:
    """The artifact's figures: read from the day's published rows, the run summary (extract) and the changes."""
    customers, scored = wh.rows(
        "select count(*), count(r_score) from published.customer_segments where as_of = ?", [as_of]
    )[0]
    params = {"as_of": as_of}
    sizes = wh.rows(wh.model_sql("published/segment_sizes"), params)
    tiers = wh.rows(wh.model_sql("published/scheme_sizes"), params)
    return {
        "as_of": as_of,
        "run_id": summary.get("run_id", ""),
        "config_hash": summary.get("config_hash", ""),
        "partial": bool(summary.get("partial", False)),
        "timezone": summary.get("timezone", ""),
        "customers": customers,
        "scored": scored,
        "rfm_segments": [(name, zh or "", n) for name, zh, n in sizes],
        "value_tiers": [(name, zh or "", n) for scheme, name, zh, n in tiers if scheme == "tier"],
        "lifecycle_stages": [(name, zh or "", n) for scheme, name, zh, n in tiers if scheme == "lifecycle"],
        "risk_tiers": [(name, zh or "", n) for scheme, name, zh, n in tiers if scheme == "risk"],
        "previous_as_of": previous_published_day(wh, as_of),
        "changes": changes,
        "quarantine": [
            (load["source"], load["rows_quarantined"], load["duplicates_dropped"])
            for load in summary.get("extract", [])
        ],
        "export_dir": str(export_dir) if export_dir else None,
        "report_html": str(export_dir / "report.html") if export_dir else None,
        "report_md": str(export_dir / "report.md") if export_dir else None,
    }


def _table(headers: list[str], rows: Sequence[Sequence[Any]], numeric_from: int) -> list[str]:
    """A Markdown table; columns from numeric_from on are right-aligned numbers with thousands separators."""
    align = ["---" if i < numeric_from else "---:" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    for row in rows:
        cells = [f"{v:,}" if i >= numeric_from and isinstance(v, int) else str(v) for i, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _share(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "–"


def summary_markdown(figures: dict[str, Any]) -> str:
    """The Prefect markdown artifact of a publish (key figures, no links: paths as text)."""
    total = figures["customers"]
    quarantined = sum(q for _, q, _ in figures["quarantine"])
    lines = [
        f"# Customer segments as of {figures['as_of']}",
        "",
        f"Run `{figures['run_id']}` · config `{figures['config_hash']}`",
        "",
    ]
    if figures["partial"]:
        _, english = partial_notes(str(figures["as_of"]), figures.get("timezone", ""))
        lines += [f"**{english}**", ""]
    lines += _table(
        ["customers published", "scored (with a purchase)", "not scored", "rows quarantined in this run"],
        [[total, figures["scored"], total - figures["scored"], quarantined]],
        numeric_from=0,
    )
    lines += ["", "## RFM segments", ""]
    lines += _table(
        ["segment", "中文", "customers", "share"],
        [[name, zh, n, _share(n, total)] for name, zh, n in figures["rfm_segments"]],
        numeric_from=2,
    )
    for title, header, rows in (
        ("Value tiers", "tier", figures["value_tiers"]),
        ("Lifecycle stages", "stage", figures["lifecycle_stages"]),
        ("Churn risk tiers (流失风险)", "risk tier", figures.get("risk_tiers", [])),
    ):
        if rows:
            lines += ["", f"## {title}", ""]
            lines += _table(
                [header, "中文", "customers", "share"],
                [[name, zh, n, _share(n, total)] for name, zh, n in rows],
                numeric_from=2,
            )
    previous = figures["previous_as_of"]
    changes = figures["changes"]
    schemes = [s for s in SEGMENT_SCHEMES if s in changes] + sorted(set(changes) - set(SEGMENT_SCHEMES))
    lines += [
        "",
        f"## Membership changes since {previous}"
        if previous
        else "## Membership changes (first published day: every membership is new)",
        "",
    ]
    if schemes:
        lines += _table(
            ["scheme", "entered", "exited"],
            [[s, changes[s].get("entered", 0), changes[s].get("exited", 0)] for s in schemes],
            numeric_from=1,
        )
    unchanged = [s for s in SEGMENT_SCHEMES if s not in changes]
    if previous and unchanged:
        lines += ["", "No customer entered or left a segment of: " + ", ".join(unchanged) + "."]
    if figures["quarantine"]:
        lines += ["", "## Rows kept out of staging in this run", ""]
        lines += _table(
            ["source", "quarantined", "duplicates dropped"], figures["quarantine"], numeric_from=1
        )
    lines += ["", "## Files", ""]
    if figures["export_dir"] is None:
        lines.append(
            "Not written: the day is older than the days `keep_export_days` keeps (the published tables hold it)."
        )
    else:
        lines += [
            "On the machine that ran the flow (paths to copy; the Prefect UI cannot open local files):",
            "",
            f"- Export folder: `{figures['export_dir']}`",
            f"- HTML report (charts): `{figures['report_html']}`",
            f"- Markdown report: `{figures['report_md']}`",
        ]
    return "\n".join(lines) + "\n"

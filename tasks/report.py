"""The run summary: one plain structure, rendered as Markdown for the Prefect artifact, report.md and the CLI."""

from typing import Any


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(summary: dict[str, Any]) -> str:
    """Markdown report of a run summary (as built by the daily_refresh flow)."""
    extract = summary["extract"]
    dedupe = summary["dedupe"]
    segments = summary["segments"]
    parts = [
        f"# Customer segments as of {summary['as_of']}",
        f"Run `{summary['run_id']}` · config `{summary['config_hash']}` · warehouse `{summary['warehouse']}`",
        "## Sources",
        _table(
            [
                "source",
                "kind",
                "files read",
                "rows read",
                "staged",
                "quarantined",
                "duplicates dropped",
                "status",
            ],
            [
                [
                    s["source"],
                    s["kind"],
                    f"{s['files_loaded']}/{s['files']}",
                    s["rows_read"],
                    s["rows_staged"],
                    s["rows_quarantined"],
                    s["duplicates_dropped"],
                    s["status"],
                ]
                for s in extract
            ],
        ),
        "## Customers",
        _table(
            [
                "customer records",
                "customers after dedupe",
                "records merged",
                "largest cluster",
                "with a purchase",
            ],
            [
                [
                    dedupe["records"],
                    dedupe["customers"],
                    dedupe["merged_records"],
                    dedupe["largest_cluster"],
                    segments["scored"],
                ]
            ],
        ),
    ]
    if dedupe["overshared_keys"]:
        parts += [
            "Keys shared by too many records (not used to match):",
            *(f"- {k}" for k in dedupe["overshared_keys"]),
        ]
    if dedupe.get("suspicious_clusters"):
        parts += [
            f"Clusters above max_cluster_size (not merged blindly): {len(dedupe['suspicious_clusters'])}",
            *(f"- {c}" for c in dedupe["suspicious_clusters"]),
        ]
    labels = summary.get("segment_labels", {})
    parts += [
        "## RFM segments",
        _table(
            ["segment", "中文", "customers"],
            [[name, labels.get(name, ""), count] for name, count in segments["rfm_segments"].items()],
        ),
        "## Clusters",
        _table(["cluster", "customers"], [[k, v] for k, v in segments["clusters"].items()]),
    ]
    if "publish" in summary:
        parts += ["## Outputs", f"Exports: `{summary['publish']['export_dir']}`"]
    return "\n\n".join(parts) + "\n"

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
    parts += _cluster_parts(segments.get("cluster_model") or {}) + _stability_parts(
        segments.get("stability") or {}
    )
    if "publish" in summary:
        parts += ["## Outputs", f"Exports: `{summary['publish']['export_dir']}`"]
    return "\n\n".join(parts) + "\n"


def _cluster_parts(model: dict[str, Any]) -> list[str]:
    """Cluster names and profiles, how k was chosen, and the decision tree that explains them."""
    if not model.get("clusters"):
        return []
    scores = ", ".join(f"k={k}: {v}" for k, v in model["k_scores"].items())
    return [
        f"k = {model['k']} ({model['k_method']}{'; silhouette by k: ' + scores if scores else ''}), "
        f"silhouette {model['silhouette']}",
        _table(
            ["id", "name", "名称", "customers", "new", "inactive days", "orders", "spend", "sessions 90d"],
            [
                [
                    c["cluster_id"],
                    c["name_en"],
                    c["name_zh"],
                    c["size"],
                    "new" if c["new"] else "",
                    c["inactive_days"],
                    c["frequency"],
                    c["monetary"],
                    c["sessions_90d"],
                ]
                for c in model["clusters"]
            ],
        ),
        f"### Decision tree (depth 3), fidelity {model['fidelity']:.1%} of customers",
        "```\n" + model["tree_rules"].rstrip() + "\n```",
    ]


def _stability_parts(stability: dict[str, Any]) -> list[str]:
    """Stability against the previous published day: ARI and changed customers per scheme."""
    if not stability.get("previous_as_of"):
        return ["## Stability", "No earlier published day to compare with."]
    return [
        f"## Stability since {stability['previous_as_of']}",
        _table(
            ["scheme", "adjusted Rand index", "customers in both days", "changed segment", "size changes"],
            [
                [
                    s["scheme"],
                    s["ari"],
                    s["customers_compared"],
                    s["changed"],
                    ", ".join(f"{c['segment']} {c['change']:+d}" for c in s["size_changes"][:6]) or "none",
                ]
                for s in stability["schemes"]
            ],
        ),
    ]

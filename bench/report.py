"""The Markdown section `make bench` appends to BENCHMARKS.md."""

import argparse
import statistics
from datetime import datetime

from bench.backfill import by_customer_note
from bench.worker import STAGES

GIB = 1024**3
LINEAR_SLACK = 1.15  # a stage whose cost grows more than 15% faster than the data is called super-linear


def _s(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _gib(value: float | None) -> str:
    return "–" if value is None else f"{value / GIB:.2f} GiB"


def _bytes(value: int) -> str:
    return f"{value / 1e9:.2f} GB" if value >= 1e9 else f"{value / 1e6:.1f} MB"


def _rate(rows: int, seconds: float | None) -> str:
    return "–" if not seconds else f"{rows / seconds:,.0f}"


def _machine(facts: dict, note: str) -> list[str]:
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    start, end = facts["load_average_at_start"], facts.get("load_average_at_end", ("?",) * 3)
    lines = [
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['memory_gib']} GiB RAM, {facts['os']}, "
        f"Python {facts['python']}; {versions}.",
        f"Load average (1/5/15 min) at start {start[0]:.2f}/{start[1]:.2f}/{start[2]:.2f}, "
        f"at end {end[0]:.2f}/{end[1]:.2f}/{end[2]:.2f} (above ~0.3 at start means other work shared the cores).",
    ]
    if "speed_at_start" in facts:  # sections before this figure was recorded have none
        start_speed, end_speed = facts["speed_at_start"], facts.get("speed_at_end") or {}
        steal = facts.get("steal_share")
        lines.append(
            f"Machine speed (fixed reference work, best of 3; more seconds mean a slower machine): DuckDB group-by of "
            f"100M rows {_s(start_speed['duckdb_s'], 2)} s at start, {_s(end_speed.get('duckdb_s'), 2)} s at end; "
            f"Python 30M-step loop {_s(start_speed['python_s'], 2)} s / {_s(end_speed.get('python_s'), 2)} s; "
            f"CPU time taken by the host (steal) during the run {'–' if steal is None else f'{steal:.1%}'}."
        )
    if note:
        lines.append(f"Note: {note}")
    return lines


def _full(results: dict[int, dict]) -> list[str]:
    lines = [
        "| customers (persons) | source rows | flow wall s | direct wall s | Prefect overhead s | "
        "CPU s (direct) | CPU s (flow) | peak RSS flow | peak RSS direct | rows/s (flow) | generate s (not in refresh) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in results.items():
        flow, direct = r["flow"]["wall_s"], r["direct"]["wall_s"]
        lines.append(
            f"| {size:,} | {r['rows_read']:,} | {_s(flow)} | {_s(direct)} | {_s(flow - direct)} "
            f"({(flow - direct) / direct:+.0%}) | {_s(r['direct']['cpu_s'])} | {_s(r['flow']['cpu_s'])} | "
            f"{_gib(r['flow']['peak_rss_bytes'])} | "
            f"{_gib(r['direct']['peak_rss_bytes'])} | {_rate(r['rows_read'], flow)} | {_s(r['generate_s'])} |"
        )
    return lines


def _stages(results: dict[int, dict]) -> list[str]:
    header = "| stage |" + "".join(
        f" {size:,}: flow wall s | direct wall s | direct CPU s | rows/s |" for size in results
    )
    lines = [header, "|---|" + "---:|" * 4 * len(results)]
    for stage in (*STAGES, "total"):
        cells = []
        for r in results.values():
            if stage == "total":
                flow, direct, cpu = r["flow"]["wall_s"], r["direct"]["wall_s"], r["direct"]["cpu_s"]
            else:
                flow = r["flow"]["stages"][stage]["wall_s"]
                direct = r["direct"]["stages"][stage]["wall_s"]
                cpu = r["direct"]["stages"][stage]["cpu_s"]
            cells.append(f" {_s(flow)} | {_s(direct)} | {_s(cpu)} | {_rate(r['rows_read'], direct)} |")
        lines.append(f"| {stage} |" + "".join(cells))
    return lines


def _incremental(results: dict[int, dict]) -> list[str]:
    lines = [
        "| customers | new source rows | wall s | " + " | ".join(STAGES) + " | peak RSS |",
        "|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|",
    ]
    for size, r in results.items():
        inc = r["incremental"]
        stages = " | ".join(_s(inc["stages"][s]["wall_s"]) for s in STAGES)
        lines.append(
            f"| {size:,} | {inc['rows_read']:,} | {_s(inc['wall_s'])} | {stages} | {_gib(inc['peak_rss_bytes'])} |"
        )
    return lines


def _lake(results: dict[int, dict], facts: dict) -> list[str]:
    """The lake backend beside the file backend: full and incremental refresh through the flow."""
    if facts.get("lake_missing"):
        return [f"Not measured: {facts['lake_missing']}.", ""]
    measured = {size: r["lake"] for size, r in results.items() if "lake" in r}
    if not measured:
        return ["Not measured in this run (--lake-sizes).", ""]
    versions = facts.get("lake") or {}
    file_duckdb = facts["versions"].get("duckdb", "?")
    lake_duckdb = versions.get("duckdb", "?")
    lines = [
        f"The same data and refreshes through the flow on a DuckLake warehouse: the catalog in a local "
        f"PostgreSQL server, every table as Parquet files beside the data; run by envs/lake (DuckDB "
        f"{lake_duckdb}, DuckLake extension {versions.get('ducklake', '?')}), the file by this environment "
        f"(DuckDB {file_duckdb}). Stored: the lake's data folder after the full refresh.",
        "",
        "| customers | backend | full refresh s | incremental s | peak RSS full | peak RSS incremental | stored |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, lake in measured.items():
        r = results[size]
        lines.append(
            f"| {size:,} | file (DuckDB {file_duckdb}) | {_s(r['flow']['wall_s'])} | "
            f"{_s(r['incremental']['wall_s'])} | {_gib(r['flow']['peak_rss_bytes'])} | "
            f"{_gib(r['incremental']['peak_rss_bytes'])} | – |"
        )
        full, inc = lake.get("flow", {}), lake.get("incremental", {})
        stored = (
            f"{_bytes(lake['stored_bytes'])} in {lake['stored_files']:,} files"
            if "stored_bytes" in lake
            else "–"
        )
        lines.append(
            f"| {size:,} | lake (DuckDB {lake_duckdb}) | {_s(full.get('wall_s'))} | {_s(inc.get('wall_s'))} | "
            f"{_gib(full.get('peak_rss_bytes'))} | {_gib(inc.get('peak_rss_bytes'))} | {stored} |"
        )
    lines += [
        "",
        "| customers | refresh | backend | " + " | ".join(STAGES) + " |",
        "|---:|---|---|" + "---:|" * len(STAGES),
    ]
    for size, lake in measured.items():
        for key, name in (("flow", "full"), ("incremental", "incremental")):
            for backend, measured_run in (("file", results[size][key]), ("lake", lake.get(key))):
                if measured_run:
                    cells = " | ".join(_s(measured_run["stages"].get(s, {}).get("wall_s")) for s in STAGES)
                    lines.append(f"| {size:,} | {name} | {backend} | {cells} |")
    lines += [""]
    lines += [
        f"**The lake's refreshes FAILED at {size:,}**: {lake['failed']}"
        for size, lake in measured.items()
        if "failed" in lake
    ]
    return lines


def _ratio(value: float | None, base: float | None) -> str:
    return "–" if value is None or not base else f"{value / base:.1f}×"


def _floor(results: dict[int, dict]) -> list[str]:
    """The floor per size and the refreshes as multiples of it."""
    measured = {size: r for size, r in results.items() if "floor" in r}
    if not measured:
        return ["(no floor in these results: measured from this benchmark version on)"]
    lines = [
        "| customers | source rows read | read s | aggregate s | floor s | full refresh (flow) s | full / floor | "
        "incremental (flow) s | incremental / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in measured.items():
        floor, flow, inc = r["floor"], r["flow"]["wall_s"], r["incremental"]["wall_s"]
        lines.append(
            f"| {size:,} | {floor['rows_read']:,} | {_s(floor['read_s'])} | {_s(floor['aggregate_s'])} | "
            f"{_s(floor['wall_s'])} | {_s(flow)} | {_ratio(flow, floor['wall_s'])} | {_s(inc)} | "
            f"{_ratio(inc, floor['wall_s'])} |"
        )
    return lines


def _backfill(results: dict[int, dict]) -> list[str]:
    """The backfill per size that ran one: times, the ratio to one full refresh, the check of its last day."""
    measured = {size: r for size, r in results.items() if "backfill" in r}
    if not measured:
        return ["(no backfill in this run: see --backfill-sizes)", ""]
    lines = [
        "| customers | days | backfill wall s | per day s (min / median / max) | full refresh (flow) s | "
        "backfill / full | last day recomputed with refit vs the full refresh |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    notes = [""]
    for size, r in measured.items():
        b, flow = r["backfill"], r["flow"]["wall_s"]
        if "failed" in b:
            lines.append(f"| {size:,} | {b['days']} | **failed** | | {_s(flow)} | | |")
            notes += [f"**!!! The backfill at {size:,} customers failed:** {b['failed']}", ""]
            continue
        same = b["same_as_full"]
        per_day = sorted(b["per_day_s"].values())
        spread = (
            f"{per_day[0]:.1f} / {statistics.median(per_day):.1f} / {per_day[-1]:.1f}" if per_day else "–"
        )
        check = "equal" if same["equal"] else "**DIFFERENT**"
        lines.append(
            f"| {size:,} | {b['days']} ({b['start']} → {b['end']}) | {_s(b['wall_s'])} | {spread} | {_s(flow)} | "
            f"{_ratio(b['wall_s'], flow)} | {check} ({same['rows']['backfill']:,} rows vs {same['rows']['full']:,}) |"
        )
        days = ", ".join(f"{day[5:]} {seconds:.1f}" for day, seconds in b["per_day_s"].items())
        notes += [f"Per day at {size:,} (s): {days}.", ""]
        if "stages_s" in b:
            stages = ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in b["stages_s"].items())
            notes += [f"Stage wall time summed over the days at {size:,} (s): {stages}.", ""]
        if b.get("stages_by_day_s"):
            notes += [
                f"Stage wall time per day at {size:,} (s; a cost that grows with the days of history shows here):",
                "",
                "| day | " + " | ".join(STAGES) + " |",
                "|---|" + "---:|" * len(STAGES),
                *(
                    f"| {day} | " + " | ".join(f"{spent.get(stage, 0.0):.1f}" for stage in STAGES) + " |"
                    for day, spent in b["stages_by_day_s"].items()
                ),
                "",
            ]
        as_backfilled = b.get("published_as_backfilled")
        if as_backfilled is not None:
            notes += [
                f"The last day as the backfill published it at {size:,}, against the full refresh (models fitted on "
                "their schedule during the backfill, on the last day in the full refresh): "
                + (
                    "equal."
                    if as_backfilled["equal"]
                    else f"columns that differ: {', '.join(as_backfilled['differing_columns']) or 'none (row count)'}."
                )
                + by_customer_note(as_backfilled.get("by_customer")),
                "",
            ]
        if not same["equal"]:
            notes += [
                f"**!!! At {size:,} customers the backfilled warehouse, computing {b['end']} again with every model "
                f"fitted that day, published other published.customer_segments rows than the full refresh of that "
                f"day** ({same['rows']['backfill']:,} rows vs {same['rows']['full']:,}; columns that differ, "
                f"customers named by their records: {', '.join(same['differing_columns']) or 'none (the row count)'}). "
                "Incremental state kept over the backfill's days must equal one full computation: a defect to find, "
                "not noise.",
                "",
            ]
        if not same.get("same_cluster_labels", True):
            notes += [
                f"At {size:,} the backfill's clusters carry other ids or names than the full refresh's (a refit keeps "
                "the ids and names of the previous fit's clusters it matches; the clusters are compared as a "
                "partition of the customers).",
                "",
            ]
        if not same.get("same_ids", True):
            notes += [
                f"At {size:,} the backfill named some customers by other stable ids than the full refresh (ids are "
                "assigned over the days of history a run has seen; the rows are compared per customer by its records).",
                "",
            ]
    return lines + notes


def _scaling(results: dict[int, dict]) -> list[str]:
    sizes = sorted(results)
    if len(sizes) < 2:
        return ["(one size only: no scaling ratio)"]
    small, large = sizes[0], sizes[-1]
    factor = large / small
    lines = [
        f"Ratio {large:,} / {small:,} customers (linear = {factor:.0f}×), direct calls:",
        "",
        "| stage | wall ratio | CPU ratio | growth |",
        "|---|---:|---:|---|",
    ]
    faster = []
    for stage in (*STAGES, "total"):

        def get(size: int, field: str, s: str = stage) -> float | None:
            r = results[size]["direct"]
            return r[field] if s == "total" else r["stages"][s][field]

        wall = get(large, "wall_s") / get(small, "wall_s")
        cpu = get(large, "cpu_s") / get(small, "cpu_s")
        growth = "super-linear" if cpu > factor * LINEAR_SLACK else "linear or better"
        if growth == "super-linear" and stage != "total":
            faster.append(stage)
        lines.append(f"| {stage} | {wall:.1f}× | {cpu:.1f}× | {growth} |")
    lines += [
        "",
        f"Super-linear stages (CPU ratio above {factor * LINEAR_SLACK:.1f}×): {', '.join(faster) or 'none'}.",
    ]
    return lines


def _side_by_side(results: dict[int, dict]) -> list[str]:
    lines = []
    for size, r in results.items():
        if "features_vs_pandas" in r:
            f = r["features_vs_pandas"]
            lines += [
                f"(a) Features + RFM scores at {size:,} customers ({f['customers']:,} customers, {f['scored']:,} "
                f"scored): DuckDB SQL models {f['sql_s']:.2f} s, pandas {f['pandas_s']:.2f} s "
                f"(+ {f['pandas_load_s']:.2f} s to read its inputs out of DuckDB): pandas takes "
                f"**{f['ratio']:.1f}×** the SQL time. Outputs asserted equal per customer (every column of "
                "features.customer_features and segments.rfm_scores; floats to 1e-9 relative).",
                "",
            ]
        if "dedupe_vs_splink" in r:
            d = r["dedupe_vs_splink"]
            lines += [
                f"(b) Identity resolution at {size:,} customers, on the {d['records']:,} CRM customer records, "
                "scored pairwise against the generator's ground truth:",
                "",
                "| matcher | seconds | precision | recall | F1 | predicted pairs | true pairs |",
                "|---|---:|---:|---:|---:|---:|---:|",
                _pair_row("ours (`dedupe_all`, all records of all sources)", d["ours_s"], d["ours"]),
            ]
            if "splink" in d:
                lines.append(
                    _pair_row(
                        f"Splink {d.get('splink_version', '')} DuckDB (u by sampling, EM on 2 blockings, "
                        f"cluster at p ≥ {d['splink_threshold']})",
                        d["splink_s"],
                        d["splink"],
                    )
                )
            else:
                lines.append(f"| Splink | failed: {d['splink_error']} | | | | | |")
            lines.append("")
    return lines or ["(no side-by-side in this run: see --compare-sizes)"]


def _pair_row(name: str, seconds: float, score: dict) -> str:
    return (
        f"| {name} | {seconds:.1f} | {score['precision']:.4f} | {score['recall']:.4f} | {score['f1']:.4f} | "
        f"{score['predicted_pairs']:,} | {score['true_pairs']:,} |"
    )


def _times(value: float) -> str:
    return f"{value:.1f}×"


def _targets(results: dict[int, dict]) -> list[str]:
    from bench.run import (
        BACKFILL_TARGET_RATIO,
        BACKFILL_TARGET_SIZE,
        FLOOR_TARGET_RATIO,
        FULL_TARGET_S,
        INCREMENTAL_TARGET_S,
        RSS_TARGET_BYTES,
    )

    rows = []
    r = results.get(1_000_000)
    if r is not None:
        rows += [
            (
                "1M: full refresh, flow, wall",
                f"≤ {FULL_TARGET_S:.0f} s",
                r["flow"]["wall_s"],
                FULL_TARGET_S,
                _s,
            ),
            (
                "1M: peak RSS of the refresh",
                "≤ 4 GiB",
                max(r["flow"]["peak_rss_bytes"], r["direct"]["peak_rss_bytes"]),
                RSS_TARGET_BYTES,
                _gib,
            ),
            (
                "1M: incremental refresh, flow, wall",
                f"≤ {INCREMENTAL_TARGET_S:.0f} s",
                r["incremental"]["wall_s"],
                INCREMENTAL_TARGET_S,
                _s,
            ),
        ]
        if "floor" in r:
            rows.append(
                (
                    "1M: full refresh (flow) / floor",
                    f"≤ {FLOOR_TARGET_RATIO:.0f}×",
                    r["flow"]["wall_s"] / r["floor"]["wall_s"],
                    FLOOR_TARGET_RATIO,
                    _times,
                )
            )
    b = results.get(BACKFILL_TARGET_SIZE, {}).get("backfill")
    if b is not None and "failed" in b:
        rows.append(
            (
                f"{BACKFILL_TARGET_SIZE // 1000}k: backfill of {b['days']} days / one full refresh (flow)",
                f"≤ {BACKFILL_TARGET_RATIO:.0f}×",
                float("inf"),
                BACKFILL_TARGET_RATIO,
                lambda _: "failed",
            )
        )
    elif b is not None:
        rows.append(
            (
                f"{BACKFILL_TARGET_SIZE // 1000}k: backfill of {b['days']} days / one full refresh (flow)",
                f"≤ {BACKFILL_TARGET_RATIO:.0f}×",
                b["wall_s"] / results[BACKFILL_TARGET_SIZE]["flow"]["wall_s"],
                BACKFILL_TARGET_RATIO,
                _times,
            )
        )
    if not rows:
        return [
            f"(no 1,000,000-customer run and no backfill at {BACKFILL_TARGET_SIZE:,}: targets not checked)"
        ]
    lines = ["| target | goal | measured | met |", "|---|---|---:|---|"]
    for name, goal, value, limit, fmt in rows:
        lines.append(f"| {name} | {goal} | {fmt(value)} | {'yes' if value <= limit else '**no**'} |")
    if b is not None and "failed" not in b and not b["same_as_full"]["equal"]:
        lines.append(
            f"| {BACKFILL_TARGET_SIZE // 1000}k: backfill's last day, recomputed with refit, equals the full refresh "
            "| equal | **different** | **no** |"
        )
    return lines


def render(
    started: datetime, commit: str, facts: dict, results: dict[int, dict], args: argparse.Namespace
) -> str:
    """The report section for one `make bench`."""
    from bench.workers import workers_section

    runs = ", ".join(f"{size:,}: {r['runs']}" for size, r in results.items())
    sections = [
        f"\n## {started:%Y-%m-%d %H:%M} UTC — commit {commit}\n",
        f'`make bench` (`python -m bench --sizes "{args.sizes}"`), runs per size {runs}; medians over runs. '
        f"DuckDB memory_limit {args.memory_limit}. Timed: refreshes only (generation is listed apart)."
        + (" Merged from separate runs saved with --json." if getattr(args, "from_json", None) else ""),
        "",
        *_machine(facts, args.note),
        "",
        "### Full refresh (extract → publish)",
        "",
        "Flow: the real `daily_refresh` Prefect flow against a local Prefect server; direct: the same stage "
        "functions called one after another in one process (Prefect overhead = flow − direct). "
        "Peak RSS: the refresh process (its own subprocess; the Prefect server is a separate process).",
        "",
        *_full(results),
        "",
        "### Per stage (rows/s = source rows read / direct stage wall time)",
        "",
        *_stages(results),
        "",
        "### Incremental refresh after one new day of data (flow)",
        "",
        *_incremental(results),
        "",
        "### Lake backend beside the file backend",
        "",
        *_lake(results, facts),
        "### Two workers against one (the lake stack)",
        "",
        *workers_section(results, facts),
        "### Floor: every source file read once into DuckDB, sessions and payments grouped per customer",
        "",
        "The least any refresh of this data must do (bench/floor.py; GBK files transcoded in a streaming pass "
        "first, as extract does); full / floor and incremental / floor are the refreshes as multiples of it.",
        "",
        *_floor(results),
        "",
        "### Backfill (the `backfill` flow on a fresh warehouse, each day a `daily_refresh` subflow run)",
        "",
        "Per day: the subflow run's start → end as the Prefect server recorded it. The last day's "
        "published.customer_segments rows (without run ids and timestamps) compared with the full refresh's "
        "by MD5 of the rows sorted.",
        "",
        *_backfill(results),
        "### Scaling",
        "",
        *_scaling(results),
        "",
        "### Side by side",
        "",
        *_side_by_side(results),
        "### Targets",
        "",
        *_targets(results),
        "",
    ]
    return "\n".join(sections)

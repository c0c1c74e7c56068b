"""bench.report and bench.large: the floor, the backfill and the incremental day rendered with exact text."""

import argparse
from datetime import UTC, datetime

from bench import large
from bench.report import _backfill, _floor, _lake, _targets, render
from bench.run import backfill_outcome
from bench.worker import STAGES
from bench.workers import workers_section

FACTS = {
    "cores": 2,
    "cpu": "test CPU",
    "memory_gib": 24.0,
    "os": "Linux 6",
    "python": "3.11.9",
    "versions": {"duckdb": "2.0.0"},
    "load_average_at_start": (0.1, 0.2, 0.3),
    "load_average_at_end": (0.4, 0.5, 0.6),
}


def refresh(wall: float, rss: float = 2 * 1024**3) -> dict:
    """A refresh's summary with every stage taking a seventh of the wall time."""
    return {
        "wall_s": wall,
        "cpu_s": 2 * wall,
        "peak_rss_bytes": rss,
        "stages": {stage: {"wall_s": wall / 7, "cpu_s": 2 * wall / 7} for stage in STAGES},
    }


def summary(flow: float, incremental: float, floor: float | None, rows: int) -> dict:
    """One size's medians as bench.run.summarize gives them."""
    result = {
        "runs": 1,
        "rows_read": rows,
        "generate_s": 1.0,
        "direct": refresh(flow - 1),
        "flow": refresh(flow),
        "incremental": refresh(incremental) | {"rows_read": rows // 100},
    }
    if floor is not None:
        result["floor"] = {
            "read_s": floor * 0.75,
            "aggregate_s": floor * 0.25,
            "wall_s": floor,
            "cpu_s": 2 * floor,
            "rows_read": rows,
            "peak_rss_bytes": 1024**3,
        }
    return result


def backfill(wall: float, equal: bool, differing: list[str] | None = None) -> dict:
    """A backfill result of three days, as bench.run.run_backfill gives it."""
    return {
        "wall_s": wall,
        "start": "2026-11-19",
        "end": "2026-11-21",
        "days": 3,
        "computed": 3,
        "per_day_s": {"2026-11-19": 12.0, "2026-11-20": 3.5, "2026-11-21": 4.25},
        "stages_s": {stage: float(n) for n, stage in enumerate(STAGES, start=1)},
        "stages_by_day_s": {
            "2026-11-19": {stage: 0.5 for stage in STAGES},
            "2026-11-20": {stage: 0.25 * n for n, stage in enumerate(STAGES, start=1)},
        },
        "published_as_backfilled": {
            "equal": False,
            "rows": {"backfill": 111_360, "full": 111_360},
            "differing_columns": ["churn_risk", "p_alive"],
            "same_ids": True,
        },
        "same_as_full": {
            "equal": equal,
            "rows": {"backfill": 111_360, "full": 111_360},
            "differing_columns": differing or [],
            "same_ids": equal,
        },
    }


def results() -> dict[int, dict]:
    """100k with a backfill, 1M, both with the floor."""
    small = summary(12.0, 6.0, 2.0, 1_380_000) | {"backfill": backfill(20.0, equal=True)}
    return {100_000: small, 1_000_000: summary(90.0, 14.0, 13.0, 13_808_365)}


def test_floor_table_with_the_ratios() -> None:
    assert _floor(results()) == [
        "| customers | source rows read | read s | aggregate s | floor s | full refresh (flow) s | full / floor | "
        "incremental (flow) s | incremental / floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| 100,000 | 1,380,000 | 1.5 | 0.5 | 2.0 | 12.0 | 6.0× | 6.0 | 3.0× |",
        "| 1,000,000 | 13,808,365 | 9.8 | 3.2 | 13.0 | 90.0 | 6.9× | 14.0 | 1.1× |",
    ]


def test_floor_absent_from_older_results() -> None:
    assert _floor({100_000: summary(12.0, 6.0, None, 1_380_000)}) == [
        "(no floor in these results: measured from this benchmark version on)"
    ]


def test_backfill_table_when_its_last_day_equals_the_full_refresh() -> None:
    assert _backfill(results()) == [
        "| customers | days | backfill wall s | per day s (min / median / max) | full refresh (flow) s | "
        "backfill / full | last day recomputed with refit vs the full refresh |",
        "|---:|---|---:|---:|---:|---:|---|",
        "| 100,000 | 3 (2026-11-19 → 2026-11-21) | 20.0 | 3.5 / 4.2 / 12.0 | 12.0 | 1.7× | "
        "equal (111,360 rows vs 111,360) |",
        "",
        "Per day at 100,000 (s): 11-19 12.0, 11-20 3.5, 11-21 4.2.",
        "",
        "Stage wall time summed over the days at 100,000 (s): extract 1.0, dedupe 2.0, features 3.0, predict 4.0, "
        "segment 5.0, act 6.0, publish 7.0.",
        "",
        "Stage wall time per day at 100,000 (s; a cost that grows with the days of history shows here):",
        "",
        "| day | extract | dedupe | features | predict | segment | act | publish |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        "| 2026-11-19 | 0.5 | 0.5 | 0.5 | 0.5 | 0.5 | 0.5 | 0.5 |",
        "| 2026-11-20 | 0.2 | 0.5 | 0.8 | 1.0 | 1.2 | 1.5 | 1.8 |",
        "",
        "The last day as the backfill published it at 100,000, against the full refresh (models fitted on their "
        "schedule during the backfill, on the last day in the full refresh): columns that differ: churn_risk, "
        "p_alive.",
        "",
    ]


def test_backfill_that_differs_is_said_loudly() -> None:
    data = {100_000: summary(12.0, 6.0, 2.0, 1_380_000) | {"backfill": backfill(40.0, False, ["cluster_id"])}}
    lines = _backfill(data)
    assert lines[2].endswith("| 3.3× | **DIFFERENT** (111,360 rows vs 111,360) |")
    assert lines[-4:] == [
        "**!!! At 100,000 customers the backfilled warehouse, computing 2026-11-21 again with every model fitted "
        "that day, published other published.customer_segments rows than the full refresh of that day** (111,360 "
        "rows vs 111,360; columns that differ, customers named by their records: cluster_id). Incremental state "
        "kept over the backfill's days must equal one full computation: a defect to find, not noise.",
        "",
        "At 100,000 the backfill named some customers by other stable ids than the full refresh (ids are assigned "
        "over the days of history a run has seen; the rows are compared per customer by its records).",
        "",
    ]
    assert _targets(data) == [
        "| target | goal | measured | met |",
        "|---|---|---:|---|",
        "| 100k: backfill of 3 days / one full refresh (flow) | ≤ 3× | 3.3× | **no** |",
        "| 100k: backfill's last day, recomputed with refit, equals the full refresh | equal | **different** | **no** |",
    ]


def test_no_backfill_run() -> None:
    assert _backfill({1_000_000: summary(90.0, 14.0, 13.0, 13_808_365)}) == [
        "(no backfill in this run: see --backfill-sizes)",
        "",
    ]


def test_targets_with_the_floor_and_the_backfill() -> None:
    assert _targets(results()) == [
        "| target | goal | measured | met |",
        "|---|---|---:|---|",
        "| 1M: full refresh, flow, wall | ≤ 60 s | 90.0 | **no** |",
        "| 1M: peak RSS of the refresh | ≤ 4 GiB | 2.00 GiB | yes |",
        "| 1M: incremental refresh, flow, wall | ≤ 15 s | 14.0 | yes |",
        "| 1M: full refresh (flow) / floor | ≤ 3× | 6.9× | **no** |",
        "| 100k: backfill of 3 days / one full refresh (flow) | ≤ 3× | 1.7× | yes |",
    ]


def test_render_holds_the_new_sections() -> None:
    args = argparse.Namespace(sizes="100000 1000000", memory_limit="3GB", note="", from_json=None)
    text = render(datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "abc123", FACTS, results(), args)
    assert (
        "\n### Floor: every source file read once into DuckDB, sessions and payments grouped per customer\n"
        in text
    )
    assert "| 1,000,000 | 13,808,365 | 9.8 | 3.2 | 13.0 | 90.0 | 6.9× | 14.0 | 1.1× |" in text
    assert (
        "\n### Backfill (the `backfill` flow on a fresh warehouse, each day a `daily_refresh` subflow run)\n"
        in text
    )
    assert "Per day at 100,000 (s): 11-19 12.0, 11-20 3.5, 11-21 4.2." in text
    assert text.index("### Floor") < text.index("### Backfill") < text.index("### Scaling")


def test_large_report_puts_the_incremental_day_beside_the_full_refresh() -> None:
    args = argparse.Namespace(persons=10_000_000, memory_limit="8GB", note="")
    full = refresh(1200.0, 16 * 1024**3) | {"rows_read": 137_700_000}
    incremental = refresh(140.0, 8 * 1024**3) | {"rows_read": 1_030_000}
    refreshes = {"full": (full, 14 * 1024**3, 15 * 1024**3), "incremental": (incremental, 0, 16 * 1024**3)}
    text = large.render(datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "abc123", FACTS, args, 240.0, refreshes)
    assert (
        "| full | 137,700,000 | 240 | 1200 | 2400 | 16.00 GiB | 14.00 GiB | 15.00 GiB | 114,750 |\n"
        "| incremental | 1,030,000 | – | 140 | 280 | 8.00 GiB | 0.00 GiB | 16.00 GiB | 7,357 |\n"
    ) in text
    assert (
        "| full | 171 | 171 | 171 | 171 | 171 | 171 | 171 | 1200 |\n| incremental | 20 | 20 | 20 | 20 | 20 | 20 | 20 | 140 |"
        in text
    )
    assert "Incremental / full: 0.12 (140 s against 1200 s)." in text
    assert (
        ", then one more day of data (bench/newday.py) and an incremental refresh through the flow," in text
    )
    skipped = large.render(
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "abc123", FACTS, args, None, {"full": refreshes["full"]}
    )
    assert "| incremental |" not in skipped and "Incremental / full" not in skipped
    assert "| full | 137,700,000 | – | 1200 |" in skipped


def test_a_failed_backfill_is_reported_and_fails_its_target() -> None:
    failed = {"days": 30, "failed": "backfill refresh as of 2026-11-21 failed (exit 1); see /tmp/x.log"}
    data = {100_000: summary(12.0, 6.0, 2.0, 1_380_000) | {"backfill": failed}}
    assert _backfill(data)[2:] == [
        "| 100,000 | 30 | **failed** | | 12.0 | | |",
        "",
        "**!!! The backfill at 100,000 customers failed:** backfill refresh as of 2026-11-21 failed (exit 1); "
        "see /tmp/x.log",
        "",
    ]
    assert _targets(data)[2:] == [
        "| 100k: backfill of 30 days / one full refresh (flow) | ≤ 3× | failed | **no** |"
    ]
    assert backfill_outcome(failed) == (
        "!!! backfill of 30 days FAILED: backfill refresh as of 2026-11-21 failed (exit 1); see /tmp/x.log"
    )


def test_backfill_outcome_line() -> None:
    assert backfill_outcome(backfill(20.0, equal=True)) == (
        "backfill of 3 days 20.0 s; 2026-11-21 recomputed on it with refit: published rows equal to the full "
        "refresh's"
    )
    assert backfill_outcome(backfill(20.0, False, ["p_alive"])) == (
        "backfill of 3 days 20.0 s; !!! 2026-11-21 recomputed on it with refit: published rows DIFFER from the "
        "full refresh's (columns p_alive; rows {'backfill': 111360, 'full': 111360})"
    )


def lake_results() -> dict[int, dict]:
    """1M with its lake refreshes (full 120 s, incremental 35 s) beside the file's (90 s, 14 s)."""
    lake = {
        "flow": refresh(120.0, 3 * 1024**3),
        "incremental": refresh(35.0),
        "stored_bytes": 2_100_000_000,
        "stored_files": 169,
    }
    return {1_000_000: summary(90.0, 14.0, 13.0, 13_808_365) | {"lake": lake}}


def test_lake_beside_the_file_per_refresh_and_stage() -> None:
    facts = FACTS | {"lake": {"duckdb": "1.5.5", "ducklake": "1.5.5"}}
    lines = _lake(lake_results(), facts)
    assert lines[2:6] == [
        "| customers | backend | full refresh s | incremental s | peak RSS full | peak RSS incremental | stored |",
        "|---:|---|---:|---:|---:|---:|---:|",
        "| 1,000,000 | file (DuckDB 2.0.0) | 90.0 | 14.0 | 2.00 GiB | 2.00 GiB | – |",
        "| 1,000,000 | lake (DuckDB 1.5.5) | 120.0 | 35.0 | 3.00 GiB | 2.00 GiB | 2.10 GB in 169 files |",
    ]
    assert "| 1,000,000 | full | lake | 17.1 | 17.1 | 17.1 | 17.1 | 17.1 | 17.1 | 17.1 |" in lines
    assert "| 1,000,000 | incremental | file | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 | 2.0 |" in lines
    small = lake_results()
    small[1_000_000]["lake"]["stored_bytes"] = 4_300_000
    row = "| 1,000,000 | lake (DuckDB 1.5.5) | 120.0 | 35.0 | 3.00 GiB | 2.00 GiB | 4.3 MB in 169 files |"
    assert row in _lake(small, facts)


def test_a_failed_lake_refresh_is_said_and_one_never_run_is_a_dash() -> None:
    results = lake_results()
    results[1_000_000]["lake"] = {"failed": "flow: flow refresh as of 2026-11-21 failed (exit 1); see x.log"}
    lines = _lake(results, FACTS | {"lake": {"duckdb": "1.5.5", "ducklake": "1.5.5"}})
    assert "| 1,000,000 | lake (DuckDB 1.5.5) | – | – | – | – | – |" in lines
    assert (
        "**The lake's refreshes FAILED at 1,000,000**: flow: flow refresh as of 2026-11-21 failed (exit 1); see x.log"
        in lines
    )


def test_no_lake_environment_is_said_and_no_lake_size_too() -> None:
    missing = FACTS | {"lake_missing": "no lake environment (envs/lake/.venv/bin/python): make lake-env"}
    assert _lake(lake_results(), missing) == [
        "Not measured: no lake environment (envs/lake/.venv/bin/python): make lake-env.",
        "",
    ]
    assert _lake(results(), FACTS) == ["Not measured in this run (--lake-sizes).", ""]
    args = argparse.Namespace(sizes="100000 1000000", memory_limit="3GB", note="", from_json=None)
    text = render(datetime(2026, 12, 3, 8, 0, tzinfo=UTC), "abc123", FACTS, results(), args)
    assert (
        text.index("### Incremental")
        < text.index("### Lake backend beside the file backend")
        < text.index("### Two workers against one (the lake stack)")
        < text.index("### Floor")
    )


def workers_setup(shards: int, full: float, features: float, by_workers: int, published: list) -> dict:
    """One setup of bench/workers.py as its --json gives it: the full refresh and the next day alike."""
    refresh = {
        "wall_s": full,
        "stages_s": {"dedupe": 61.0, "features": features, "predict": 9.5, "segment": 7.25, "publish": 16.0},
        "shards_by_workers": by_workers,
        "shards_started": by_workers,
    }
    return {"shards": shards, "full": refresh, "next_day": refresh, "published": published}


def test_two_workers_against_one_with_their_published_rows_compared() -> None:
    runs = results()
    runs[1_000_000]["workers"] = {
        "one worker": workers_setup(1, 232.3, 12.6, 0, [1_114_652, "1028"]),
        "two workers": workers_setup(2, 224.4, 25.1, 2, [1_114_652, "1028"]),
    }
    lines = workers_section(runs, FACTS)
    assert lines[2:8] == [
        "1,000,000 persons (data generated apart, the same for both setups):",
        "",
        "| setup | shards | full refresh s | its dedupe / features / predict / segment / publish s | next day s | "
        "its dedupe / features / predict / segment / publish s | shards run by workers (full, next day) | "
        "day after published |",
        "|---|---:|---:|---|---:|---|---|---|",
        "| one worker | 1 | 232.3 | 61.0 / 12.6 / 9.5 / 7.2 / 16.0 | 232.3 | 61.0 / 12.6 / 9.5 / 7.2 / 16.0 | "
        "0 of 0, 0 of 0 | 1,114,652 rows, hash 1028 |",
        "| two workers | 2 | 224.4 | 61.0 / 25.1 / 9.5 / 7.2 / 16.0 | 224.4 | 61.0 / 25.1 / 9.5 / 7.2 / 16.0 | "
        "2 of 2, 2 of 2 | 1,114,652 rows, hash 1028 |",
    ]
    assert lines[9] == "Published rows of the day after: **equal** in both setups."
    runs[1_000_000]["workers"]["two workers"]["published"] = [1_114_652, "99"]
    assert "Published rows of the day after: **DIFFERENT** between the setups." in workers_section(
        runs, FACTS
    )
    runs[1_000_000]["workers"] = {"failed": "bench.workers exited with 1; see w.log"}
    assert "**FAILED**: bench.workers exited with 1; see w.log" in workers_section(runs, FACTS)


def test_two_workers_not_measured_says_why() -> None:
    assert workers_section(results(), FACTS) == ["Not measured in this run (--workers-sizes).", ""]
    missing = FACTS | {"lake_missing": "no lake environment (envs/lake/.venv/bin/python): make lake-env"}
    assert workers_section(results(), missing) == [
        "Not measured in this run (no lake environment (envs/lake/.venv/bin/python): make lake-env).",
        "",
    ]

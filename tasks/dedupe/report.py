"""What a dedupe run reports: its counts as Prefect artifacts (tasks.shared.artifacts) and its warnings."""

from datetime import date
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger

from tasks.shared.artifacts import record_counts

if TYPE_CHECKING:
    from tasks.dedupe import DedupeResult


def report_run(result: "DedupeResult", ids: dict[str, Any], as_of: date) -> None:
    """Record the run's counts (records, customers, links, the blocking rules) and log what needs a look."""
    record_counts(
        "dedupe",
        [
            {"count": "customer records", "value": result.records},
            {"count": "customers", "value": result.customers},
            {"count": "merged records", "value": result.merged_records},
            {"count": "records merged by a probabilistic link only", "value": result.probabilistic_records},
            {"count": "largest cluster", "value": result.largest_cluster},
            {"count": "candidate pairs", "value": result.candidate_pairs},
            {"count": "probabilistic links", "value": result.probabilistic_links},
            {"count": "links left out by one-to-one", "value": result.one_to_one_dropped},
            {"count": "matcher fitted this run (1: yes)", "value": int(result.refitted)},
            {"count": "records new or changed since the matcher state", "value": result.changed_records},
            {"count": "records gone or changed since the matcher state", "value": result.removed_records},
            *(
                {"count": f"unreadable values of {name} (compared as missing)", "value": count}
                for name, count in result.unreadable_values.items()
            ),
            *(
                {
                    "count": f"records whose {name} is unusable (left out of matching and the golden record)",
                    "value": count,
                }
                for name, count in result.unusable_values.items()
            ),
            {"count": "over-shared keys (not linked on)", "value": len(result.overshared_keys)},
            {"count": "keys two people hold (not linked on)", "value": result.two_people_keys},
            {"count": "suspicious clusters (re-split)", "value": len(result.suspicious_clusters)},
            {"count": "new customer ids", "value": ids["new_customers"]},
            {"count": "customer ids merged away", "value": ids["merges"]},
            {"count": "customer ids split off", "value": ids["splits"]},
        ],
        f"dedupe as of {as_of} ({ids['mode']} run): records, customers and links; matcher "
        f"{result.matcher_mode}"
        + (f" ({result.refit_reason})" if result.refit_reason else "")
        + (f" ({result.state_fallback})" if result.state_fallback else "")
        + (f", model fitted as of {result.model_fitted_as_of}" if result.model_fitted_as_of else "")
        + (
            f"; fact observations rebuilt ({result.observations_rebuilt})"
            if result.observations_rebuilt
            else ""
        )
        + (f"; customer records built whole ({result.records_rebuilt})" if result.records_rebuilt else ""),
    )
    for name, count in result.unreadable_values.items():
        get_run_logger().warning(
            "comparison %s: %d records have a value that cannot be read as its kind (compared as missing); "
            "map it with an explicit conversion in match_columns (e.g. strptime for dates)",
            name,
            count,
        )
    if result.unusable_values:
        get_run_logger().info(
            "values left out of matching and the golden record (invalid, implausible or a placeholder): %s; "
            "list them with core.customer_records (e.g. phone is not null and phone_norm is null)",
            ", ".join(f"{name} {count:,} records" for name, count in result.unusable_values.items()),
        )
    for line in result.unmatched_refs:
        get_run_logger().warning("%s", line)
    if result.unused_comparisons:
        get_run_logger().warning(
            "comparisons %s have no value in any record (an attribute nobody maps, or a kind none of its values "
            "can be read as): they add nothing",
            ", ".join(result.unused_comparisons),
        )
    if result.blocking:
        record_counts(
            "dedupe-blocking",
            [
                {"rule": b["rule"], "pairs counted": b["pairs"], "chosen": b["chosen"]}
                for b in result.blocking
            ],
            f"dedupe as of {as_of}: the blocking rules the data offered, the pairs each would propose, and those "
            f"chosen ({result.candidate_pairs} distinct candidate pairs compared)",
        )
    get_run_logger().info(
        "%d customer records -> %d customers (%d records merged, largest cluster %d)",
        result.records,
        result.customers,
        result.merged_records,
        result.largest_cluster,
    )
    for conflict in result.identity_conflicts:
        get_run_logger().warning("%s", conflict_text(conflict))
    if result.suspicious_clusters:
        get_run_logger().warning(
            "%d clusters above max_cluster_size were not merged blindly: %s",
            len(result.suspicious_clusters),
            "; ".join(result.suspicious_clusters),
        )
    get_run_logger().info(
        "customer ids (%s run): %d new, %d merged away, %d split off",
        ids["mode"],
        ids["new_customers"],
        ids["merges"],
        ids["splits"],
    )


def conflict_text(conflict: dict) -> str:
    """What a run says of customers whose records disagree on sex or national id (likely two people merged)."""
    what = {"gender": "say both M and F", "national_id": "hold national ids that differ by more than a typo"}
    return (
        f"{conflict['customers']:,} customers whose records {what.get(conflict['field'], conflict['field'])}: "
        f"likely two people merged (a household sharing an address and a phone, a recycled number), e.g. "
        f"{conflict['example']}; segments explain shows why two records matched (README: households)"
    )

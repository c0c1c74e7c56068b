"""Blocking: the candidate pairs of records the probabilistic matcher compares.

Pairs share a blocking key (the values of one rule's prepared columns, see
tasks.shared.contracts.BLOCKING_RULES); blocks larger than `max_block_size` are skipped, so the
number of pairs stays near-linear in the records. The keys are grouped in DuckDB (sql/core/blocking/).
"""

from collections.abc import Sequence

import polars as pl

from tasks.shared.contracts import BLOCKING_RULES, DEFAULT_BLOCKING
from tasks.shared.warehouse import Warehouse


def candidate_pairs(
    prepared: pl.DataFrame,
    rules: Sequence[str] = DEFAULT_BLOCKING,
    max_block_size: int = 25,
    wh: Warehouse | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Distinct pairs (left < right nodes) that share at least one blocking key.

    A block (one key value of one rule) with more than max_block_size records is skipped and
    reported ("rule=value (n records)"): its pairs would grow quadratically and say little.
    wh: the warehouse whose DuckDB instance does the join (see pairs_sharing).
    """
    unknown = sorted(set(rules) - set(BLOCKING_RULES))
    if unknown:
        raise ValueError(f"unknown blocking rules {unknown}; known: {', '.join(BLOCKING_RULES)}")
    return pairs_sharing(prepared, {rule: BLOCKING_RULES[rule] for rule in rules}, max_block_size, wh)


def pairs_sharing(
    prepared: pl.DataFrame,
    rules: dict[str, tuple[str, ...]],
    max_block_size: int,
    wh: Warehouse | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Distinct node pairs equal on all columns of at least one rule, skipping blocks above max_block_size.

    wh: the warehouse whose DuckDB instance does the join, through a cursor of its connection (its
    own temp tables, outside the stage's transaction; the instance's memory limit and spilling);
    without one, an in-memory database.
    """
    if not rules:
        return pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64}), []
    scratch = Warehouse(wh.con.cursor(), timezone=wh.timezone) if wh is not None else Warehouse(":memory:")
    try:
        columns = {column for rule_columns in rules.values() for column in rule_columns}
        scratch.con.register("_prepared", prepared.select("node", *columns))
        scratch.run("core/blocking/keys")
        for rule, rule_columns in rules.items():
            scratch.insert(
                "_blocking_keys",
                "core/blocking/rule_keys",
                {"rule": rule},
                identifiers={"columns": rule_columns},
            )
        params = {"max_block_size": max_block_size}
        skipped = scratch.rows(scratch.model_sql("core/blocking/skipped_blocks"), params)
        pairs = scratch.frame(scratch.model_sql("core/blocking/candidate_pairs"), params)
    finally:
        scratch.con.close()
    described = [f"{rule}={key.replace(chr(31), '|')} ({records} records)" for rule, key, records in skipped]
    return pairs.cast({"left": pl.Int64, "right": pl.Int64}), described

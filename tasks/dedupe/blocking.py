"""Blocking: the candidate pairs of records the probabilistic matcher compares.

Pairs share a blocking key: the values of one rule's prepared columns (tasks.shared.contracts.BLOCKING_RULES,
plus rules on the match columns of the configured comparisons), or one token of a free text. Blocks larger
than `max_block_size` are skipped, so the number of pairs stays near-linear in the records. Unless the
config names its rules, they are chosen from the data: every candidate rule's pairs are counted first
(as Splink's count_comparisons_from_blocking_rule does) and the tightest rules are taken while their
pairs fit the budget. The keys are grouped in DuckDB (sql/core/blocking/).
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tasks.dedupe.comparisons import DEFAULT_COMPARISONS, Comparison
from tasks.dedupe.preparation import text_tokens
from tasks.shared.contracts import BLOCKING_RULES, DEFAULT_BLOCKING, TOKEN_RULE, comparison_rules
from tasks.shared.warehouse import Warehouse

PAIRS_PER_RECORD = 12  # the pair budget grows with the records beyond max_candidate_pairs


@dataclass(frozen=True)
class BlockingRule:
    """A blocking rule, the pairs its blocks propose (counted before choosing), and whether it was used."""

    rule: str
    pairs: int
    chosen: bool


def candidate_rules(comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS) -> dict[str, tuple[str, ...]]:
    """Every rule the data may choose from: the built-in ones, then the rules on the comparisons of match
    columns and of numbers (tasks.shared.contracts.comparison_rules)."""
    extra = [(c.name, c.kind) for c in comparisons if c.column.startswith("c_")]
    return dict(BLOCKING_RULES) | comparison_rules(extra)


def pair_budget(records: int, max_candidate_pairs: int) -> int:
    """The most candidate pairs the chosen rules may propose together."""
    return max(max_candidate_pairs, PAIRS_PER_RECORD * records)


def choose_rules(counts: dict[str, int], budget: int, required: Sequence[str] = ()) -> list[str]:
    """Rules to block on: the required ones, then the others from the fewest pairs up while their
    counted pairs (summed, overlaps counted twice) fit the budget. Rules proposing no pair are left out."""
    chosen = [rule for rule in required if counts.get(rule, 0) > 0]
    total = sum(counts[rule] for rule in chosen)
    for rule, pairs in sorted(counts.items(), key=lambda item: (item[1], item[0])):
        if rule in chosen or pairs == 0:
            continue
        if total + pairs > budget:
            break
        chosen.append(rule)
        total += pairs
    return chosen


def candidate_pairs(
    prepared: pl.DataFrame,
    rules: Sequence[str] | None = DEFAULT_BLOCKING,
    max_block_size: int = 25,
    wh: Warehouse | None = None,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
    budget: int | None = None,
    link_type: str = "link_and_dedupe",
    keys_to: Path | None = None,
) -> tuple[pl.DataFrame, list[str], list[BlockingRule]]:
    """Distinct pairs (left < right nodes) that share at least one blocking key, the skipped blocks, the rules.

    rules: the rules to use; None chooses them from the data under budget pairs (see choose_rules), the
    pairs counted as the link type compares them (prepared's `grp`: each record's source).
    A block (one key value of one rule) with more than max_block_size records is skipped and
    reported ("rule=value (n records)"): its pairs would grow quadratically and say little.
    wh: the warehouse whose DuckDB instance does the join (see pairs_sharing). keys_to: see pairs_sharing.
    """
    known = candidate_rules(comparisons)
    if rules is not None:
        unknown = sorted(set(rules) - set(known))
        if unknown:
            raise ValueError(f"unknown blocking rules {unknown}; known: {', '.join(known)}")
        chosen = {rule: known[rule] for rule in rules}
        return pairs_sharing(prepared, chosen, max_block_size, wh, link_type=link_type, keys_to=keys_to)
    present = {c for c in prepared.columns if prepared[c].null_count() < prepared.height}
    usable = {rule: columns for rule, columns in known.items() if set(columns) <= present}
    budget = budget or pair_budget(prepared.height, 0)
    return pairs_sharing(prepared, usable, max_block_size, wh, budget, link_type, keys_to)


def pairs_sharing(
    prepared: pl.DataFrame,
    rules: dict[str, tuple[str, ...]],
    max_block_size: int,
    wh: Warehouse | None = None,
    budget: int | None = None,
    link_type: str = "link_and_dedupe",
    keys_to: Path | None = None,
) -> tuple[pl.DataFrame, list[str], list[BlockingRule]]:
    """Distinct node pairs equal on all columns of at least one rule, skipping blocks above max_block_size.

    budget: when given, the rules' pairs are counted and only the rules choose_rules takes are joined;
    otherwise every rule is. link_type: with a `grp` column in prepared (each record's source), the pairs
    are counted and proposed across sources only (link_only) or within one (dedupe_only). wh: the
    warehouse whose DuckDB instance does the join, through its Warehouse.scratch (its own temp tables,
    outside the stage's transaction; the instance's memory limit and spilling); without one, an in-memory
    database. The pairs go through a Parquet file, read after the keys are dropped: DuckDB's keys and the
    pairs in Python are not held at once. keys_to: also write the chosen rules' keys (rule, node, key: those
    fill_blocking_keys makes) to this Parquet file, for a caller that needs them after the pairs (the
    matcher state of a full run), instead of making them a second time.
    """
    empty = pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64})
    if not rules:
        return empty, [], []
    with _scratch(wh) as (scratch, folder):
        _fill_keys(scratch, prepared, rules)
        params = {"max_block_size": max_block_size, "link_type": link_type}
        counts = dict(scratch.rows(scratch.model_sql("core/blocking/rule_pairs"), params))
        counts = {rule: int(counts.get(rule, 0)) for rule in rules}
        chosen = list(rules) if budget is None else choose_rules(counts, budget, REQUIRED_RULES)
        params |= {"rules": chosen}
        skipped = scratch.rows(
            scratch.model_sql("core/blocking/skipped_blocks"),
            {"max_block_size": max_block_size, "rules": chosen},
        )
        if keys_to is not None:
            scratch.copy_model(keys_to, "core/blocking/chosen_keys", {"rules": chosen})
        path = folder / "pairs.parquet"
        scratch.copy_model(path, "core/blocking/candidate_pairs", params)
        scratch.execute("drop table _blocking_keys")
        pairs = pl.read_parquet(path)
    described = [f"{rule}={key.replace(chr(31), '|')} ({records} records)" for rule, key, records in skipped]
    report = [BlockingRule(rule, counts[rule], rule in chosen) for rule in rules]
    return pairs.cast({"left": pl.Int64, "right": pl.Int64}), described, report


@contextmanager
def _scratch(wh: Warehouse | None) -> Iterator[tuple[Warehouse, Path]]:
    """The warehouse's Warehouse.scratch (its own temp tables, outside the stage's transaction; the
    instance's memory limit and spilling), or without one an in-memory database's."""
    if wh is not None:
        with wh.scratch() as scratch:
            yield scratch
        return
    with Warehouse(":memory:") as memory, memory.scratch() as scratch:
        yield scratch


def _fill_keys(scratch: Warehouse, prepared: pl.DataFrame, rules: dict[str, tuple[str, ...]]) -> None:
    """The temp table _blocking_keys of scratch: each record's key under each rule (blocking/keys.sql)."""
    columns = {column for rule_columns in rules.values() for column in rule_columns}
    group = pl.col("grp").cast(pl.Int64) if "grp" in prepared.columns else pl.lit(0, pl.Int64).alias("grp")
    fields = prepared.select("node", group, *(pl.col(c).cast(pl.String) for c in sorted(columns)))
    with scratch.registered("_prepared", fields):
        scratch.run("core/blocking/keys")
        for rule, rule_columns in rules.items():
            if rule.endswith(TOKEN_RULE):
                tokens = prepared.select("node", group, key=text_tokens(pl.col(rule_columns[0]))).explode(
                    "key"
                )
                with scratch.registered("_tokens", tokens.drop_nulls()):
                    scratch.insert("_blocking_keys", "core/blocking/token_keys", {"rule": rule})
                continue
            scratch.insert(
                "_blocking_keys",
                "core/blocking/rule_keys",
                {"rule": rule},
                identifiers={"columns": rule_columns},
            )


def fill_blocking_keys(
    wh: Warehouse,
    prepared: pl.DataFrame,
    rules: Sequence[str],
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
) -> None:
    """The temp table _blocking_keys (rule, node, grp, key, ...) of wh's own connection: the keys of
    blocking_keys, left in DuckDB (under its memory limit) for a model to read, not brought to Python."""
    known = candidate_rules(comparisons)
    _fill_keys(wh, prepared, {rule: known[rule] for rule in rules})


def blocking_keys(
    prepared: pl.DataFrame,
    rules: Sequence[str],
    wh: Warehouse | None = None,
    comparisons: Sequence[Comparison] = DEFAULT_COMPARISONS,
) -> pl.DataFrame:
    """Each record's keys under the rules (rule, node, key), as candidate_pairs blocks them: one key per
    rule the record has every column of, one per distinct token for a token rule. A record's keys depend
    on its own prepared values alone."""
    with _scratch(wh) as (scratch, _):
        fill_blocking_keys(scratch, prepared, rules, comparisons)
        keys = scratch.frame(scratch.model_sql("core/blocking/record_keys"))
    return keys.cast({"node": pl.Int64})


# Rules always kept when the data has them: identifiers typed with a typo elsewhere.
REQUIRED_RULES = ("national_id", "email_local")

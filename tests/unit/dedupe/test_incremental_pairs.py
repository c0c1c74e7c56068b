"""Incremental candidate pairs: kept links plus the pairs a run scores equal a full run's candidates."""

import random

import polars as pl
import pytest

from tasks.dedupe.incremental import incremental_candidates
from tasks.dedupe.state_blocks import still_proposed


def full_candidates(
    keys: dict[int, set[tuple[str, str]]], groups: dict[int, str], limit: int, link_type: str
):
    """Brute force: pairs sharing a (rule, key) block of 2 to limit records, as the link type allows."""
    blocks: dict[tuple[str, str], list[int]] = {}
    for node, node_keys in keys.items():
        for block in node_keys:
            blocks.setdefault(block, []).append(node)
    pairs = set()
    for members in blocks.values():
        if not 2 <= len(members) <= limit:
            continue
        for a in members:
            for b in members:
                if a >= b:
                    continue
                same = groups[a] == groups[b]
                if (link_type == "link_only" and same) or (link_type == "dedupe_only" and not same):
                    continue
                pairs.add((a, b))
    return pairs


def key_frame(keys: dict[int, set[tuple[str, str]]], groups: dict[int, str], dirty: set[int]) -> pl.DataFrame:
    """rule, key, node, grp, dirty of every record's keys."""
    rows = [(rule, key, node, groups[node], node in dirty) for node, ks in keys.items() for rule, key in ks]
    return pl.DataFrame(
        rows,
        schema={"rule": pl.String, "key": pl.String, "node": pl.Int64, "grp": pl.String, "dirty": pl.Boolean},
        orient="row",
    )


def block_sizes(keys: pl.DataFrame) -> pl.DataFrame:
    """rule, key, size of every block of the keys."""
    return keys.group_by("rule", "key").agg(size=pl.len())


def random_keys(rng: random.Random, values: int) -> set[tuple[str, str]]:
    """A record's keys: under each of two rules, maybe one of a few values (few values: blocks fill up)."""
    return {(rule, str(rng.randrange(values))) for rule in ("name_dob", "email_local") if rng.random() < 0.8}


@pytest.mark.parametrize("link_type", ["link_and_dedupe", "link_only", "dedupe_only"])
@pytest.mark.parametrize("seed", range(12))
def test_kept_links_and_scored_pairs_are_the_full_candidates(seed: int, link_type: str) -> None:
    # yesterday's records, today: some removed, some changed (new keys), some new; blocks grow past the
    # limit and shrink back within it
    rng = random.Random(seed)
    limit = 4
    before = {node: random_keys(rng, 6) for node in range(40)}
    groups = {node: rng.choice("ab") for node in range(80)}
    removed = set(rng.sample(sorted(before), 6))
    changed = set(rng.sample(sorted(set(before) - removed), 5))
    new = set(range(40, 40 + rng.randrange(0, 10)))
    after = {node: ks for node, ks in before.items() if node not in removed}
    for node in changed:
        after[node] = random_keys(rng, 6)
    for node in new:
        after[node] = random_keys(rng, 6)
    old_pairs = full_candidates(before, groups, limit, link_type)
    new_pairs = full_candidates(after, groups, limit, link_type)
    # every old candidate pair is a link (the matcher's threshold is the identity here)
    dirty = changed | new
    unchanged_links = pl.DataFrame(
        [(a, b) for a, b in old_pairs if not {a, b} & (dirty | removed)],
        schema={"left": pl.Int64, "right": pl.Int64},
        orient="row",
    )
    keys = key_frame(after, groups, dirty)
    gone = pl.DataFrame(
        [(rule, key) for node in removed | changed for rule, key in before[node]],
        schema={"rule": pl.String, "key": pl.String},
        orient="row",
    )
    kept = still_proposed(unchanged_links, keys.select("rule", "key", "node"), block_sizes(keys), limit)
    scored = incremental_candidates(keys, gone, limit, link_type)
    got = set(kept.iter_rows()) | set(scored.iter_rows())
    assert got == new_pairs


def test_a_block_grown_past_the_limit_drops_its_pairs_unless_another_rule_proposes_them() -> None:
    limit = 3
    # records 0, 1, 2 share name_dob=x; 0 and 1 also share email_local=e; 3 joins the name_dob block today
    before = {
        0: {("name_dob", "x"), ("email_local", "e")},
        1: {("name_dob", "x"), ("email_local", "e")},
        2: {("name_dob", "x")},
    }
    after = before | {3: {("name_dob", "x")}}
    groups = dict.fromkeys(range(4), "a")
    links = pl.DataFrame({"left": [0, 0, 1], "right": [1, 2, 2]})
    keys = key_frame(after, groups, {3})
    kept = still_proposed(links, keys.select("rule", "key", "node"), block_sizes(keys), limit)
    scored = incremental_candidates(
        keys, pl.DataFrame(schema={"rule": pl.String, "key": pl.String}), limit, "link_and_dedupe"
    )
    assert set(kept.iter_rows()) == {(0, 1)}  # kept by email_local; (0, 2) and (1, 2) only had name_dob
    assert scored.is_empty()  # the grown block proposes nothing, the new record has no other block
    assert set(kept.iter_rows()) | set(scored.iter_rows()) == full_candidates(
        after, groups, limit, "link_and_dedupe"
    )


def test_a_block_shrunk_back_within_the_limit_proposes_its_unchanged_pairs_again() -> None:
    limit = 3
    before = {n: {("name_dob", "x")} for n in range(4)}  # 4 records: too large, no pairs
    after = {n: ks for n, ks in before.items() if n != 3}  # record 3 erased
    groups = dict.fromkeys(range(4), "a")
    keys = key_frame(after, groups, set())
    gone = pl.DataFrame({"rule": ["name_dob"], "key": ["x"]})
    scored = incremental_candidates(keys, gone, limit, "link_and_dedupe")
    assert set(scored.iter_rows()) == {(0, 1), (0, 2), (1, 2)}

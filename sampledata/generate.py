"""Generate a deterministic sample of a 棋牌 (online card & board game) platform's source files.

One call writes five sources plus the ground truth under ``out_dir``:

- ``crm/members.csv`` (GBK, Chinese header): one row per member registration. About 90% of
  persons registered once; about 8% of those registered again later under a new 会员编号, with the
  phone written differently (``+86 138-0013-8000``), the e-mail in another case with spaces, or the
  name in traditional characters. In about 1 of 5 re-registrations the phone has a typo *and* the
  e-mail is a different address, so exact matching cannot find the pair.
- ``game/sessions-NNNNN.parquet`` (one file per chunk): game sessions, heavy-tailed per person
  (mean about 10, 15% of persons never play). Guest sessions carry only a device id.
- ``payments/payments.csv`` (UTF-8): recharge orders with SUCCESS/FAILED/PENDING rows and REFUND
  rows (negative amount, same order_id). Rows without member_id carry a phone and/or e-mail instead.
- ``social/social.jsonl``: likes, shares and comments, about 0.5 per person, tied to played sessions.
- ``survey/survey.csv`` (UTF-8 with BOM): satisfaction answers from about 10% of persons; free text
  sometimes holds a comma or a newline inside quotes.
- ``truth/records.csv``: ``source,record_id,person_id`` for every row with a non-empty id.
- ``truth/lifetimes.csv``: the planted behaviour of each person: ``first_seen``, ``churned_at`` (the
  latent churn time: no session starts after it, and an order only within the last session; empty for
  the 45% still active at ``end``), ``payer``, ``orders`` and ``orders_per_active_day`` (orders fall
  uniformly in time while active), so
  the churn and value models can be checked against what was planted.

``difficulty="hard"`` triples the re-registrations (25% of members), 70% of them with neither phone
nor e-mail in common. ``difficulty="adversarial"`` is hard plus what people and forms do to records
(sampledata.corruption): re-registrations with name typos and transpositions (Han, pinyin, English),
nicknames (小明, Bill), the other name order, birth-date typos and day-month swaps, and blank birth
date, city, e-mail or phone; members who write their name in Latin letters; family members (same
surname and city) sharing one phone, and look-alikes (same name, gender and city), all distinct
persons in the truth. It draws from a stream of its own, so the other settings' files do not change.

Deliberate faults, which the pipeline must survive:

- CRM: ~1% exact duplicate rows; ~0.5% each of invalid phone, invalid e-mail, empty 会员编号 and
  注册时间 in the future (year 2099 or after ``end``); ~0.5% of persons use the placeholder phone
  ``13800000000`` and/or e-mail ``test@test.com``, shared by unrelated persons.
- Game: ~0.2% sessions with neither member_id nor device_id; ~0.2% starting after ``end``.
- Payments: ~0.3% non-numeric amounts, ~0.5% exact duplicate rows, ~0.2% empty txn_id.
- Survey: ~1% 满意度 outside 1-5 (``N/A``, ``6``).

All other timestamps lie in the ``days`` days ending with ``end`` (local time Asia/Shanghai, which
has no daylight saving, so the offset is always +08:00). Persons are generated in chunks: chunk k
draws only from ``np.random.default_rng([seed, k])``. Values that must be unique over the whole
data set (phones, e-mail numbers, device ids) are keyed permutations of the global person index,
and record ids are dense running numbers, so the files depend only on the arguments.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sampledata.distributions import DIFFICULTIES, Window
from sampledata.folder import (
    CONFIG_NAME,
    DEMO_CONFIG,
    check_folder,
    remove_outputs_of_another_sample,
    write_marker,
)
from sampledata.formats import SOURCES
from sampledata.persons import Keys
from sampledata.sources import NextIds, make_chunk
from sampledata.writers import open_outputs


@dataclass(frozen=True)
class GenerateStats:
    """What one generate() call wrote."""

    out_dir: Path
    persons: int
    rows: dict[str, int]  # rows written per source: "crm", "game", "payments", "social", "survey"
    corruptions: dict[str, int] = field(default_factory=dict)  # adversarial only: CRM corruptions by kind
    # write_sample: what it removed of the previous sample (warehouse, exports), relative to the folder
    removed: list[str] = field(default_factory=list)


def check_arguments(customers: int, difficulty: str, days: int = 1, chunk_size: int = 1) -> None:
    """Raise ValueError on arguments generate() cannot use."""
    if customers < 0 or days < 1 or chunk_size < 1:
        raise ValueError("need customers >= 0, days >= 1 and chunk_size >= 1")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")


def generate(
    out_dir: Path,
    customers: int = 2000,
    seed: int = 42,
    end: date = date(2026, 11, 22),
    days: int = 730,
    chunk_size: int = 50_000,
    difficulty: str = "default",
) -> GenerateStats:
    """Write a deterministic sample 棋牌 platform's source files under out_dir.

    difficulty: "default"; "hard" for more CRM re-registrations that share no identifier;
    "adversarial" for hard plus corrupted CRM records (see the module docstring).
    Refuses (FolderInUseError) a folder holding a warehouse or a config.yaml that the generator did not write.
    """
    check_arguments(customers, difficulty, days, chunk_size)
    out_dir = Path(out_dir)
    check_folder(out_dir)
    window = Window.ending(end, days)
    keys = Keys.derive(seed, customers)
    ids = NextIds()
    rows = dict.fromkeys(SOURCES, 0)
    corruptions: Counter[str] = Counter()
    with open_outputs(out_dir) as out:
        for chunk_index, first_person in enumerate(range(0, customers, chunk_size)):
            n = min(chunk_size, customers - first_person)
            sources, lifetimes, ids = make_chunk(
                chunk_index, first_person, n, seed, window, keys, ids, DIFFICULTIES[difficulty]
            )
            out.write(chunk_index, sources, lifetimes)
            for source in SOURCES:
                rows[source] += sources[source].rows.height
            corruptions.update(sources["crm"].corruptions)
    return GenerateStats(out_dir=out_dir, persons=customers, rows=rows, corruptions=dict(corruptions))


def write_sample(
    out_dir: Path,
    customers: int = 2000,
    seed: int = 42,
    end: date = date(2026, 11, 22),
    difficulty: str = "default",
    config: Path | None = DEMO_CONFIG,
) -> GenerateStats:
    """Generate into out_dir, copy the config (the demo's by default) beside the data, and mark the folder as ours."""
    check_arguments(customers, difficulty)
    out_dir = Path(out_dir)
    check_folder(out_dir)
    wanted = {"customers": customers, "seed": seed, "end": end.isoformat(), "difficulty": difficulty}
    removed = remove_outputs_of_another_sample(out_dir, wanted)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Claim the folder first: an interrupted run leaves a marker that matches no finished sample.
    write_marker(out_dir, {"state": "generating"})
    stats = generate(out_dir, customers=customers, seed=seed, end=end, difficulty=difficulty)
    stats = replace(stats, removed=removed)
    if config is not None:
        shutil.copyfile(config, stats.out_dir / CONFIG_NAME)
    write_marker(
        stats.out_dir,
        {
            **wanted,
            "rows": stats.rows,
            "config": None if config is None else CONFIG_NAME,
        },
    )
    return stats

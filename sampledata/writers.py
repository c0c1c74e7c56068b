"""The output files of one generation: opened once with their headers, then every chunk appended."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import BinaryIO

import polars as pl

from sampledata.formats import (
    CRM_COLUMNS,
    LIFETIME_COLUMNS,
    PAYMENT_COLUMNS,
    SOURCES,
    SURVEY_COLUMNS,
    TRUTH_COLUMNS,
)
from sampledata.sources import Source

UTF8_BOM = b"\xef\xbb\xbf"


def _header(columns: Sequence[str]) -> str:
    return ",".join(columns) + "\n"


class Outputs:
    """The open output files of one run; CSV headers are written once, when opening."""

    def __init__(self, out_dir: Path, stack: ExitStack) -> None:
        for sub in ("crm", "game", "payments", "social", "survey", "truth"):
            (out_dir / sub).mkdir(parents=True, exist_ok=True)
        for stale in (out_dir / "game").glob("sessions-*.parquet"):  # left by an earlier, larger run
            stale.unlink()
        self.game_dir = out_dir / "game"

        def open_(rel: str, head: bytes) -> BinaryIO:
            f = stack.enter_context((out_dir / rel).open("wb"))
            f.write(head)
            return f

        self.crm = open_("crm/members.csv", _header(CRM_COLUMNS).encode("gbk"))
        self.payments = open_("payments/payments.csv", _header(PAYMENT_COLUMNS).encode())
        self.social = open_("social/social.jsonl", b"")
        self.survey = open_("survey/survey.csv", UTF8_BOM + _header(SURVEY_COLUMNS).encode())
        self.truth = open_("truth/records.csv", _header(TRUTH_COLUMNS).encode())
        self.lifetimes = open_("truth/lifetimes.csv", _header(LIFETIME_COLUMNS).encode())

    def write(self, chunk_index: int, sources: dict[str, Source], lifetimes: pl.DataFrame) -> None:
        """Append one chunk to every file."""
        lifetimes.select(LIFETIME_COLUMNS).write_csv(self.lifetimes, include_header=False)
        self.crm.write(sources["crm"].rows.write_csv(include_header=False).encode("gbk"))
        sources["game"].rows.write_parquet(self.game_dir / f"sessions-{chunk_index:05d}.parquet")
        sources["payments"].rows.write_csv(self.payments, include_header=False)
        sources["social"].rows.write_ndjson(self.social)
        sources["survey"].rows.write_csv(self.survey, include_header=False)
        for source in SOURCES:
            sources[source].truth.write_csv(self.truth, include_header=False)


@contextmanager
def open_outputs(out_dir: Path) -> Iterator[Outputs]:
    """The output files under out_dir, open for the block and closed after it."""
    with ExitStack() as stack:
        yield Outputs(out_dir, stack)

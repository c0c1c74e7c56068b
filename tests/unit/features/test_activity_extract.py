"""The activity roll-up over what the real extract stages: new, late, rewritten, duplicate and removed rows.

Each run extracts the source files (tasks.extract), builds the contact lookups and fact views as dedupe
does, and refreshes features incrementally. After every run the roll-up equals one built from scratch
and customer_features equals the definition over the raw events (tests/models/features/oracle.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from tasks.dedupe.lookups import build_lookups, build_source_links
from tasks.extract import extract_all
from tasks.features import build_features
from tasks.features.activity import record_settings
from tasks.shared.config import load_config
from tasks.shared.contracts import ID_FIELDS
from tasks.shared.warehouse import Warehouse
from tests.models.features.oracle import raw_customer_features
from tests.models.helpers import create

HEADER = "session_id,member_id,email,kind,game,seconds,ts\n"
GAME = {
    "name": "game",
    "kind": "events",
    "format": "csv",
    "path": "game/*.csv",
    "max_bad_row_share": 1.0,
    "columns": {
        "event_id": "session_id",
        "customer_ref": "member_id",
        "email": "email",
        "ts": "ts",
        "event_type": "kind",
        "category": "game",
        "duration_s": "cast(seconds as double)",
    },
}
IDENTITY = [("game", "M1", "C1"), ("game", "M2", "C1"), ("game", "email:b@x.cn", "C2")]


def write_config(folder: Path, game: dict | None = None, placeholders: list[str] | None = None) -> Path:
    """The test's config: the game source, and dedupe placeholders when given."""
    config: dict = {"warehouse": "w.duckdb", "sources": [game or GAME]}
    if placeholders:
        config["dedupe"] = {"placeholders": placeholders}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write(folder: Path, name: str, *rows: str) -> Path:
    """A game CSV file with rows."""
    path = folder / "game" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def run(config_path: Path, run_id: str, as_of: date) -> str:
    """Extract, the lookups and views of dedupe, features; check them against from-scratch results; the mode."""
    config = load_config(config_path)
    with Warehouse.open(config) as wh:
        extract_all(wh, config, run_id)
        build_lookups(wh, config)
        build_source_links(wh, config)
        for kind in ("transactions", "events", "feedback"):
            wh.build_view(f"core.{kind}", "core/facts", identifiers={"kind": kind, "row_id": ID_FIELDS[kind]})
        create(wh, "core.identity_map", "source varchar, source_id varchar, customer_id varchar", IDENTITY)
        create(
            wh,
            "core.customers",
            "customer_id varchar, first_seen timestamptz, marketing_consent boolean",
            [("C1", None, True), ("C2", None, False)],
        )
        counts = build_features(wh, config.features, as_of, record_config=record_settings(config))
        wh.build("_scratch", "features/daily_activity", temp=True, identifiers={"events": "core.events"})
        assert wh.rows("select * from features.daily_activity order by all") == wh.rows(
            "select * from _scratch order by all"
        )
        assert wh.rows(
            "select * from features.customer_features order by customer_id"
        ) == raw_customer_features(wh, as_of, ["session"])
        assert wh.count("features.daily_activity") > 0
        return counts["activity"]["mode"]


def test_the_roll_up_follows_what_extract_stages(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    a = write(
        tmp_path,
        "a.csv",
        "S1,M1,,session,mahjong,60,2026-03-01 10:00:00",
        "S2,M2,,session,poker,30,2026-03-01 23:59:59",
        "S3,,b@x.cn,session,poker,45,2026-02-20 08:00:00",
        "S4,M1,,share,poker,,2026-02-28 08:00:00",
    )
    assert run(config, "run-1", date(2026, 3, 1)) == "rebuilt"  # no roll-up yet

    # a new file: the new day, a late row onto a rolled-up day, a row of a later day
    b = write(
        tmp_path,
        "b.csv",
        "S5,M1,,session,poker,20,2026-03-02 09:00:00",
        "S6,M2,,session,mahjong,10,2026-03-01 12:00:00",
        "S7,,B@X.CN,session,mahjong,15,2026-03-05 12:00:00",
    )
    assert run(config, "run-2", date(2026, 3, 2)) == "incremental"
    assert run(config, "run-3", date(2026, 3, 2)) == "unchanged"

    # a file holding a copy of a staged row (dropped), a conflicting one (quarantined) and a new one
    write(
        tmp_path,
        "c.csv",
        "S5,M1,,session,poker,20,2026-03-02 09:00:00",
        "S6,M2,,session,mahjong,99,2026-03-01 12:00:00",
        "S8,M2,,session,poker,5,2026-03-03 09:00:00",
    )
    assert run(config, "run-4", date(2026, 3, 3)) == "incremental"

    # a rolled-up file rewritten with a changed row: its old rows went
    a.write_text(a.read_text("utf-8").replace(",60,", ",61,"), encoding="utf-8")
    assert run(config, "run-5", date(2026, 3, 3)) == "rebuilt"

    # the source's mapping changed: every row re-staged
    game = {**GAME, "columns": {**GAME["columns"], "category": "upper(game)"}}
    config = write_config(tmp_path, game)
    assert run(config, "run-6", date(2026, 3, 3)) == "rebuilt"

    # the lookups' config changed: b@x.cn is a placeholder now, its rows are records of their own
    config = write_config(tmp_path, game, placeholders=["b@x.cn"])
    assert run(config, "run-7", date(2026, 3, 3)) == "rebuilt"

    # a rolled-up file removed (its rows gone, S6's copy in c.csv staged again)
    b.unlink()
    assert run(config, "run-8", date(2026, 3, 4)) == "rebuilt"
    write(tmp_path, "d.csv", "S9,M1,,session,mahjong,7,2026-03-04 09:00:00")
    assert run(config, "run-9", date(2026, 3, 4)) == "incremental"

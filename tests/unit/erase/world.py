"""A small world of four people in three source files, run through every stage, for the erasure tests.

Person A (the one erased) has two CRM records, members 1 and 2, that became one customer on day 2
(a payment without a member id carries member 1's phone and member 2's email): member 2's customer
id was merged into member 1's and published on day 1 under its own id. A also has an exact copy of
member 1's row (audit.duplicates), a newer version of member 1 dated in the future and a row without
a member id but with A's phone and email (both quarantined), a game session by member id and one by
device only.

B shares what an unqualified or text-wide match would catch: a payment of amount 1 (A is member 1),
a copied payment at row 2 (A's member 2 is row 2), a quarantined payment of amount 1, A's city and
birth date. C shares A's name and member 2's placeholder phone. A payment keyed only by the
placeholder phone is a customer of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from tasks.dedupe import dedupe_all
from tasks.dedupe.ids import customer_id_for
from tasks.extract import extract_all
from tasks.features import features_day
from tasks.publish import publish_tables, write_exports
from tasks.segment import segment_day
from tasks.shared.config import PipelineConfig, load_config
from tasks.shared.warehouse import Warehouse

DAY1, DAY2 = date(2026, 1, 10), date(2026, 1, 20)
PLACEHOLDER = "13800000000"
CRM_FILE, PAYMENTS_FILE, GAME_FILE = "data/crm/members.csv", "data/payments/p1.csv", "data/game/g1.csv"
# Person A: member 1's id survives the merge on day 2, member 2's was merged into it
A_CURRENT, A_MERGED = customer_id_for("crm:1"), customer_id_for("crm:2")
B, C = customer_id_for("crm:3"), customer_id_for("crm:4")

CRM = """id,name,phone,email,city,birth,signup,updated
1,王小明,13911110001,a1@example.com,杭州,1990-01-02,2026-01-01 09:00:00,2026-01-01 09:00:00
2,王晓明,13800000000,wxm@example.com,杭州,1990-01-02,2026-01-02 09:00:00,2026-01-02 09:00:00
3,李四,13922220003,b3@example.com,杭州,1990-01-02,2026-01-01 10:00:00,2026-01-01 10:00:00
1,王小明,13911110001,a1@example.com,杭州,1990-01-02,2026-01-01 09:00:00,2026-01-01 09:00:00
4,王小明,13800000000,c4@example.com,上海,1985-05-05,2026-01-01 11:00:00,2026-01-01 11:00:00
,王小明,13911110001,a1@example.com,杭州,,2026-01-03 09:00:00,2026-01-03 09:00:00
1,王小明,13911110001,a1@example.com,杭州,1990-01-02,2099-01-01 09:00:00,2099-01-01 09:00:00
"""

PAYMENTS = """txn_id,member_id,phone,email,amount,created_at
T2,3,,,1,2026-01-05 10:00:00
T2,3,,,1,2026-01-05 10:00:00
T1,1,,,100,2026-01-05 11:00:00
T5,3,,,1,not a date
T6,,13911110001,wxm@example.com,50,2026-01-15 12:00:00
T7,,13800000000,,20,2026-01-06 12:00:00
T8,4,,,30,2026-01-07 12:00:00
"""

GAME = """session_id,member_id,device_id,start_time
S1,1,DEV-A-0001,2026-01-06 20:00:00
S2,,DEV-A-0001,2026-01-07 20:00:00
S3,3,DEV-B-0003,2026-01-06 21:00:00
"""

SOURCES: list[dict[str, Any]] = [
    {
        "name": "crm",
        "kind": "customers",
        "format": "csv",
        "path": "data/crm/*.csv",
        "columns": {
            "source_id": "id",
            "full_name": "name",
            "phone": "phone",
            "email": "email",
            "city": "city",
            "birth_date": "birth",
            "signup_ts": "signup",
            "updated_at": "updated",
        },
    },
    {
        "name": "payments",
        "kind": "transactions",
        "format": "csv",
        "path": "data/payments/*.csv",
        "customer_source": "crm",
        "columns": {
            "txn_id": "txn_id",
            "customer_ref": "member_id",
            "phone": "phone",
            "email": "email",
            "amount": "amount",
            "ts": "created_at",
            "status": "'paid'",
        },
    },
    {
        "name": "game",
        "kind": "events",
        "format": "csv",
        "path": "data/game/*.csv",
        "customer_source": "crm",
        "columns": {
            "event_id": "session_id",
            "customer_ref": "member_id",
            "device_id": "device_id",
            "ts": "start_time",
            "event_type": "'session'",
        },
    },
]

DESTINATIONS: list[dict[str, Any]] = [
    # no customer_id: the person's rows are known by their hashed email only
    {"name": "hashed", "kind": "files", "fields": ["email"], "transforms": {"email": "sha256"}},
    {
        "name": "contacts",
        "kind": "files",
        "fields": ["customer_id", "phone"],
        "transforms": {"phone": "mask"},
        "formats": ["csv"],
    },
]


@dataclass(frozen=True)
class World:
    """The config of the small world and where its files are."""

    folder: Path
    config: PipelineConfig

    @property
    def exports(self) -> Path:
        return self.config.exports_path


def make_world(folder: Path) -> World:
    """Write the source files and the config into folder."""
    for name, text in (("crm/members.csv", CRM), ("payments/p1.csv", PAYMENTS), ("game/g1.csv", GAME)):
        path = folder / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    data = {
        "warehouse": "warehouse.duckdb",
        "exports": "exports",
        "timezone": "Asia/Shanghai",
        "sources": [{"max_bad_row_share": 1.0, **source} for source in SOURCES],
        "dedupe": {"probabilistic": False, "placeholders": [PLACEHOLDER]},
        "segments": {"clusters": 2},
        "destinations": DESTINATIONS,
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return World(folder, load_config(path))


def run_day(
    wh: Warehouse, world: World, as_of: date, run_id: str, full_refresh: list[str] | None = None
) -> None:
    """The stages the erasure tests read for one day, called as the daily refresh's tasks call them (without
    Prefect): extract, dedupe, features, segment, then the published tables and export files. Predict and act
    are left out (their tables stay empty), and publish is its tables and files without the audits and report."""
    config = world.config
    extract_all(wh, config, run_id, full_refresh)
    dedupe_all(wh, config, as_of, run_id)
    features_day(wh, config, as_of)
    segment_day(wh, config, as_of, run_id)
    with wh.transaction():
        publish_tables(wh, as_of, run_id, config.config_hash())
        write_exports(
            wh,
            config.exports_path,
            as_of,
            run_id,
            config.config_hash(),
            "# report\n",
            destinations=config.destinations,
            pii=config.privacy.pii_fields,
        )

"""A small world of customer records for explained links, staged by hand and run through dedupe_all.

40 CRM members (each with their own given name, birth date, postcode and email; ten family names and
seven towns shared) and two web records: web:w1 a copy of crm:m3 (same email: an exact merge, and a probabilistic link too)
and web:w2 crm:m4 with a typo in the given name and no email (a probabilistic link only).
"""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tasks.dedupe import dedupe_all
from tasks.extract import create_tables
from tasks.shared.config import PipelineConfig
from tasks.shared.warehouse import Warehouse

AS_OF = date(2026, 1, 1)
SIGNUP = datetime(2025, 12, 1, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
GIVEN = (
    *("martha", "john", "li", "ann", "omar", "james", "mary", "robert", "linda", "david"),
    *("susan", "joseph", "karen", "thomas", "nancy", "charles", "lisa", "daniel", "betty", "paul"),
    *("sandra", "mark", "ashley", "steven", "kimberly", "andrew", "emily", "joshua", "donna", "kevin"),
    *("michelle", "brian", "carol", "george", "amanda", "edward", "melissa", "ronald", "deborah", "timothy"),
)
FAMILY = ("smith", "brown", "wang", "lee", "khan", "garcia", "miller", "davis", "lopez", "wilson")


def world_config(**dedupe: Any) -> PipelineConfig:
    """Two customers sources, crm and web, with these dedupe settings."""
    sources = [
        {
            "name": name,
            "kind": "customers",
            "format": "csv",
            "path": f"{name}/*.csv",
            "columns": {"source_id": "id"},
        }
        for name in ("crm", "web")
    ]
    return PipelineConfig.model_validate({"warehouse": ":memory:", "sources": sources, "dedupe": dedupe})


def members() -> list[dict[str, Any]]:
    """The 40 CRM members as staging.customers rows."""
    return [
        {
            "source": "crm",
            "source_id": f"m{i}",
            "given_name": given,
            "family_name": FAMILY[i % len(FAMILY)],
            "birth_date": date(1950 + i, 1 + i % 12, 1 + i % 28),
            "city": f"town{i % 7}",
            "postcode": f"{2000 + i}",
            "email": f"p{i}@x.com",
            "signup_ts": SIGNUP,
        }
        for i, given in enumerate(GIVEN)
    ]


def stage(wh: Warehouse, row: dict[str, Any]) -> None:
    """Insert one staging.customers row, naming only the columns given."""
    columns = ", ".join(f'"{c}"' for c in row)
    wh.execute(
        f"insert into staging.customers ({columns}) values ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


def build_world(wh: Warehouse, config: PipelineConfig, extra: tuple[dict[str, Any], ...] = ()) -> None:
    """Stage the members, web:w1, web:w2 and extra rows into wh (tables created), then dedupe as of AS_OF."""
    create_tables(wh)
    rows = members()
    for row in rows:
        stage(wh, row)
    stage(wh, {**rows[3], "source": "web", "source_id": "w1"})
    stage(wh, {**rows[4], "source": "web", "source_id": "w2", "given_name": "omra", "email": None})
    for row in extra:
        stage(wh, row)
    dedupe_all(wh, config, AS_OF, "r1")

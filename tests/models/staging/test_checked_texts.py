"""Model tests of the staging check's texts: a value read as text is trimmed once (x_<field>), an exact one never."""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.extract.staging import build_checked, check_fragments, mapped_text, texted, texts_sql
from tasks.shared.config import SourceConfig
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import create

LOADED = datetime(2026, 3, 2, tzinfo=UTC)
FUTURE_LIMIT = datetime(2026, 3, 3, tzinfo=UTC)
EVENTS = SourceConfig(
    name="ev",
    kind="events",
    format="parquet",
    path="e.parquet",
    columns={"event_id": "id", "customer_ref": "member", "ts": "at_time", "duration_s": "seconds"},
)
# the types a parquet file gives: a zoned timestamp and an integer cast exactly, text trimmed
TYPES = {
    "m_event_id": "VARCHAR",
    "m_customer_ref": "VARCHAR",
    "m_ts": "TIMESTAMP WITH TIME ZONE",
    "m_duration_s": "BIGINT",
}


def test_only_values_read_as_text_on_every_row_are_texted() -> None:
    assert [field for field in EVENTS.columns if texted(EVENTS, field, TYPES)] == ["event_id", "customer_ref"]
    assert mapped_text(EVENTS, "event_id", TYPES) == '"x_event_id"'
    # an exact value's text is computed only where a reason quotes it
    assert mapped_text(EVENTS, "ts", TYPES) == "nullif(trim(cast(\"m_ts\" as varchar)), '')"
    assert texts_sql(EVENTS, TYPES) == (
        'nullif(trim("m_event_id"), \'\') as "x_event_id",\n'
        '        nullif(trim("m_customer_ref"), \'\') as "x_customer_ref"'
    )
    fragments = check_fragments(EVENTS, TYPES)
    assert "x_ts" not in fragments["typed"] + fragments["reasons"]
    assert "nullif(trim(\"m_event_id\"), '')" not in fragments["typed"] + fragments["reasons"]


def test_typed_rows_and_reasons_with_texts_once(wh: Warehouse) -> None:
    """Trimmed ids, a missing exact timestamp, an empty id and a blank reference: the values and reasons as before."""
    lineage = "_source varchar, _file varchar, _row bigint, _loaded_at timestamptz, _run_id varchar"
    create(
        wh,
        "raw.ev",
        f"{lineage}, id varchar, member varchar, at_time timestamptz, seconds bigint",
        [
            ("ev", "f.parquet", 1, LOADED, "run-1", "  E1 ", "M1\u3000", datetime(2026, 3, 1, tzinfo=UTC), 5),
            ("ev", "f.parquet", 2, LOADED, "run-1", "E2", "M2", None, 7),
            ("ev", "f.parquet", 3, LOADED, "run-1", " ", "M3", datetime(2026, 3, 1, tzinfo=UTC), None),
            ("ev", "f.parquet", 4, LOADED, "run-1", "E4", "  ", datetime(2026, 3, 1, tzinfo=UTC), 1),
            ("ev", "f.parquet", 5, LOADED, "run-2", "E5", "M5", datetime(2026, 3, 1, tzinfo=UTC), 1),
        ],
    )
    params = {"run_id": "run-1", "all_rows": False, "tz": "Asia/Shanghai", "future_limit": FUTURE_LIMIT}
    build_checked(wh, EVENTS, params)
    assert wh.rows(
        "select _row, event_id, customer_ref, ts, duration_s, _reason, _id from _checked order by _row"
    ) == [
        (1, "E1", "M1", datetime(2026, 3, 1, tzinfo=UTC), 5.0, None, "E1"),
        (2, "E2", "M2", None, 7.0, "field ts: missing", "E2"),
        (3, None, "M3", datetime(2026, 3, 1, tzinfo=UTC), None, None, None),
        (
            4,
            "E4",
            None,
            datetime(2026, 3, 1, tzinfo=UTC),
            1.0,
            "no customer reference: customer_ref all empty",
            "E4",
        ),
    ]

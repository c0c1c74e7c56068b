"""Outreach files of a publish: one list per channel of who to contact today, for which audience, where.

published.outreach holds who was offered what (no address); the files join the address from the golden
record when they are written, consent and suppression checked again, and transform it as act.outreach_address
says (sha256 by default, like every personal field of an export).
recommendations.csv lists every customer's recommended items.
"""

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from tasks.publish.destinations import people_sql
from tasks.publish.privacy import transformed
from tasks.shared.config import ActConfig
from tasks.shared.contracts import PII_FIELDS
from tasks.shared.files import write_file
from tasks.shared.warehouse import Warehouse

# The columns of an outreach file (published/outreach_contacts.sql).
OUTREACH_COLUMNS = {
    "as_of": pl.Date,
    "audience": pl.String,
    "audience_zh": pl.String,
    "audience_en": pl.String,
    "priority": pl.Int32,
    "customer_id": pl.String,
    "channel": pl.String,
    "address": pl.String,
    "recommended_items": pl.String,
}
# Channel -> the golden-record field its address is (mask_value masks it as that field).
ADDRESS_FIELDS = {"email": "email", "sms": "phone", "in_game": "member_id", "wechat": "wechat_openid"}


def outreach_frames(
    wh: Warehouse,
    as_of: date,
    member_sources: list[str],
    how: str = "raw",
    pii: Sequence[str] = PII_FIELDS,
) -> dict[str, pl.DataFrame]:
    """The as_of's outreach lists by channel (one query for all), each address transformed as `how` says
    (raw, sha256, mask) when its field is personal data (pii); an in-game id is not, and leaves as it is."""
    if not wh.scalar("select count(*) from published.outreach where as_of = ?", [as_of]):
        return {}  # nobody listed: no golden record needed
    sql = wh.model_sql(
        "published/outreach_contacts",
        fragments={
            "people": people_sql(wh, marketing=True, audiences_only=True),  # the list's are members
            "member_ids": wh.model_sql("published/member_ids"),
        },
    )
    listed = wh.frame(sql, {"as_of": as_of, "member_sources": member_sources})
    frames = {}
    for (channel,), frame in listed.partition_by("channel", as_dict=True, maintain_order=True).items():
        field = ADDRESS_FIELDS[channel]
        address = transformed(pl.col("address"), field, how if field in pii else None)
        frames[channel] = frame.with_columns(address.alias("address"))
    return frames


def outreach_frame(
    wh: Warehouse,
    as_of: date,
    channel: str,
    member_sources: list[str],
    how: str = "raw",
    pii: Sequence[str] = PII_FIELDS,
) -> pl.DataFrame:
    """The as_of's outreach list of one channel (see outreach_frames); header only when nobody is listed."""
    frames = outreach_frames(wh, as_of, member_sources, how, pii)
    return frames.get(channel, pl.DataFrame(schema=OUTREACH_COLUMNS))


def write_outreach_files(
    wh: Warehouse,
    folder: Path,
    as_of: date,
    act: ActConfig,
    member_sources: list[str],
    pii: Sequence[str] = PII_FIELDS,
) -> dict[str, int]:
    """outreach/<channel>.csv for every channel an audience uses, and recommendations.csv; return file -> rows."""
    written: dict[str, int] = {}
    channels = list(dict.fromkeys(channel for audience in act.audiences for channel in audience.channels))
    if channels:
        target = folder / "outreach"
        target.mkdir(mode=0o700, exist_ok=True)
        frames = outreach_frames(wh, as_of, member_sources, act.outreach_address, pii)
        for channel in channels:
            frame = frames.get(channel, pl.DataFrame(schema=OUTREACH_COLUMNS))  # header only: nobody listed
            write_file(frame, target / f"{channel}.csv")
            written[f"outreach/{channel}.csv"] = frame.height
    if act.enabled and act.recommendations.enabled:
        frame = wh.frame(wh.model_sql("published/recommendation_rows"))
        write_file(frame, folder / "recommendations.csv")
        written["recommendations.csv"] = frame.height
    return written

"""Destinations of a publish: segment files inside the export version, and webhooks of membership changes.

Files are written under a temporary name in their folder, fsynced, made owner-only, then renamed,
so a file either is complete or is not there. A webhook receives the day's changes in batches, each
with an idempotency key fixed by (destination, as_of, batch number, content); delivered batches are
recorded in published.deliveries, so a rerun sends only what did not get through.
"""

import hashlib
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from tasks.publish.privacy import apply_transforms, check_destination_fields
from tasks.shared.config import DestinationConfig, PipelineConfig
from tasks.shared.files import fsync_dir, write_file
from tasks.shared.warehouse import Warehouse

SOURCE_IDS = "source_ids"  # the ids the sources know a customer by (sql/published/source_ids.sql)
NO_SOURCE_IDS = (
    "select null::varchar as customer_id, null::varchar as source_ids where false"  # not asked for
)
PERSON_FIELDS = (
    "email",
    "phone",
    "full_name",
    "gender",
    "birth_date",
    "device_id",
    "address",
    "city",
    "province",
    "postcode",
    "country",
)


class DeliveryError(RuntimeError):
    """A webhook destination kept failing: names the destination, the URL and the last answer."""


def file_name(segment: str) -> str:
    """A file name for a segment value: letters (Chinese too), digits, '-' and '_' kept, the rest '_'."""
    return re.sub(r"[^\w\-]+", "_", segment, flags=re.UNICODE).strip("_") or "_"


def source_ids_sql(wh: Warehouse, part: str | None = None) -> str:
    """The query of every customer's source_ids (sql/published/source_ids.sql), or only of the customers of
    part (a relation with a customer_id column in the query it goes into: a shard, an outreach list)."""
    wanted = "true" if part is None else f"customer_id in (select customer_id from {part})"
    return wh.model_sql("published/source_ids", fragments={"wanted": wanted})


def people_sql(wh: Warehouse, marketing: bool, audiences_only: bool = False, source_ids: bool = False) -> str:
    """The day's published customers with their golden-record fields; marketing: consenting, unsuppressed.

    audiences_only: only the customers in an audience that day (published.audience_members), all that the
    outreach list can hold: the golden records are joined and checked for those alone.
    """
    people = wh.model_sql(
        "published/people",
        {"person_fields": [f"customers.{f}" for f in PERSON_FIELDS]},
        {
            "day_segments": wh.model_sql(
                "published/audience_segments" if audiences_only else "published/day_segments"
            ),
            # aggregated only for a destination that asks for them (DuckDB does not drop an unused join)
            "source_ids": source_ids_sql(wh, "segments" if audiences_only else None)
            if source_ids
            else NO_SOURCE_IDS,
        },
    )
    if not marketing:
        return people
    return wh.model_sql("published/marketing_people", fragments={"people": people})


def available_fields(wh: Warehouse) -> list[str]:
    """Fields a destination may ask for."""
    published = wh.columns("published.customer_segments")
    return [n for n in published if n != "run_id"] + [SOURCE_IDS, *PERSON_FIELDS]


def destination_frame(
    wh: Warehouse, destination: DestinationConfig, as_of: date, pii: list[str]
) -> pl.DataFrame:
    """The rows a destination receives for as_of: allowed fields only, PII transformed, marketing filtered."""
    check_destination_fields(destination, pii, available_fields(wh))
    wh.ensure("ops/audience_members")  # holdouts stay out of marketing destinations (marketing_people.sql)
    if destination.mode == "changes":
        model = "published/destination_changes"
    elif destination.scheme is not None:
        model = "published/destination_members"
    else:
        model = "published/destination_customers"
    memberships = wh.model_sql("published/segment_memberships", {"segments": "published.customer_segments"})
    sql = wh.model_sql(
        model,
        {"fields": [f"people.{f}" for f in dict.fromkeys(destination.fields)]},
        {
            "people": people_sql(
                wh, destination.purpose == "marketing", source_ids=SOURCE_IDS in destination.fields
            ),
            "memberships": memberships,
        },
    )
    params: dict[str, Any] = {"as_of": as_of, "scheme": destination.scheme}
    return apply_transforms(wh.frame(sql, params), destination, pii)


def write_destination_files(
    wh: Warehouse, destination: DestinationConfig, folder: Path, as_of: date, pii: list[str]
) -> dict[str, int]:
    """Write one files destination into folder/<name>/; return relative file path -> rows."""
    frame = destination_frame(wh, destination, as_of, pii)
    target = folder / destination.name
    target.mkdir(mode=0o700, exist_ok=True)
    suffix = ".changes" if destination.mode == "changes" else ""
    if destination.scheme is None:
        parts = {("changes" if destination.mode == "changes" else "customers"): frame}
    else:
        parts = {
            file_name(segment) + suffix: part
            for (segment,), part in frame.partition_by("segment", as_dict=True, maintain_order=True).items()
        }
    written = {}
    for stem, part in sorted(parts.items()):
        for fmt in destination.formats:
            path = target / f"{stem}.{fmt}"
            write_file(part, path)
            written[f"{destination.name}/{path.name}"] = part.height
    fsync_dir(target)
    return written


# --- webhooks ----------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def batches(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """rows cut into batches of at most size, in order."""
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def idempotency_key(destination: str, as_of: date, batch: int, rows: list[dict[str, Any]]) -> str:
    """Deterministic key of one batch: the same batch content of the same day always gets the same key."""
    content = hashlib.sha256(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return hashlib.sha256(f"{destination}|{as_of.isoformat()}|{batch}|{content}".encode()).hexdigest()[:32]


def post_with_retries(
    client: httpx.Client,
    destination: DestinationConfig,
    payload: dict[str, Any],
    key: str,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[int, int]:
    """POST one batch until it is accepted; return (status, attempts). Retries connection errors, 429 and 5xx."""
    last = ""
    for attempt in range(1, destination.max_attempts + 1):
        try:
            response = client.post(
                destination.url,
                json=payload,
                headers={"Idempotency-Key": key},
                timeout=destination.timeout_seconds,
            )
        except httpx.TransportError as error:
            last = f"{type(error).__name__}: {error}"
        else:
            if response.status_code < 300:
                return response.status_code, attempt
            last = f"HTTP {response.status_code}: {response.text[:200]}"
            if response.status_code < 500 and response.status_code != 429:
                break  # the endpoint rejects this request: another try cannot help
        if attempt < destination.max_attempts:
            sleep(destination.backoff_seconds * 2 ** (attempt - 1))
    raise DeliveryError(
        f"destination {destination.name!r}: POST to {destination.url} failed after {attempt} attempt(s) "
        f"(batch {payload['batch']} of {payload['batches']}, key {key}); last answer: {last}"
    )


def deliver_webhook(
    wh: Warehouse,
    destination: DestinationConfig,
    as_of: date,
    pii: list[str],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Send the day's changes to a webhook in batches, skipping batches already delivered; return counts."""
    wh.ensure("ops/deliveries")
    rows = [
        {k: _json_value(v) for k, v in row.items()}
        for row in destination_frame(wh, destination, as_of, pii).iter_rows(named=True)
    ]
    parts = batches(rows, destination.batch_size)
    delivered = {
        key
        for (key,) in wh.rows(
            "select idempotency_key from published.deliveries where destination = ? and as_of = ?",
            [destination.name, as_of],
        )
    }
    sent = skipped = 0
    with httpx.Client() as client:
        for number, part in enumerate(parts, start=1):
            key = idempotency_key(destination.name, as_of, number, part)
            if key in delivered:
                skipped += 1
                continue
            payload = {
                "destination": destination.name,
                "as_of": as_of.isoformat(),
                "batch": number,
                "batches": len(parts),
                "idempotency_key": key,
                "changes": part,
            }
            status, attempts = post_with_retries(client, destination, payload, key, sleep)
            wh.execute(
                "insert into published.deliveries values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    destination.name,
                    destination.url,
                    as_of,
                    number,
                    key,
                    len(part),
                    attempts,
                    status,
                    datetime.now(UTC),
                ],
            )
            sent += 1
    return {"rows": len(rows), "batches": len(parts), "sent": sent, "already_delivered": skipped}


def deliver_all(wh: Warehouse, config: PipelineConfig, as_of: date) -> dict[str, dict[str, int]]:
    """Deliver every webhook destination of the config; return counts per destination.

    Called after the publish committed: a DeliveryError says the day is published all the same, and what a rerun
    sends (the batches published.deliveries does not record yet)."""
    try:
        return {
            d.name: deliver_webhook(wh, d, as_of, config.privacy.pii_fields)
            for d in config.destinations
            if d.kind == "webhook"
        }
    except DeliveryError as error:
        raise DeliveryError(
            f"{error}. The day {as_of} is published (tables and export files); run the same day again "
            "once the endpoint answers: only the batches not delivered yet are sent"
        ) from None

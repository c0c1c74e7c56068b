"""Publishing safely: privacy transforms, webhook delivery exactly once, the HTML report in Chromium."""

import hashlib
import json
import re
import shutil
import struct
import subprocess
import threading
import zlib
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from tasks.publish.destinations import DeliveryError, batches, deliver_all, deliver_webhook, idempotency_key
from tasks.publish.privacy import mask_email, mask_phone, normalized_identifier
from tasks.publish.report import render_html, report_figures
from tasks.shared.config import DestinationConfig
from tasks.shared.contracts import sha256_hex
from tasks.shared.warehouse import Warehouse
from tests.unit.publish.test_report import ACT, DATA

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DAY = date(2026, 3, 31)

# --- privacy transforms ----------------------------------------------------------------------------


def test_phone_and_email_masks() -> None:
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_phone(None) is None


def test_hash_is_of_the_normalized_value_as_ad_platforms_match() -> None:
    assert normalized_identifier("  Zhang.Wei@Example.COM ") == ("email", "zhang.wei@example.com")
    assert normalized_identifier("138 0013 8000") == ("phone", "+8613800138000")
    assert normalized_identifier("C0123456789abcdef") == ("customer_id", "C0123456789abcdef")
    assert sha256_hex("zhang.wei@example.com") == hashlib.sha256(b"zhang.wei@example.com").hexdigest()


def test_a_pii_field_without_a_declared_form_is_refused() -> None:
    from tasks.publish.privacy import check_destination_fields
    from tasks.shared.errors import DataError

    destination = DestinationConfig(name="ads", kind="files", fields=["customer_id", "email"])
    with pytest.raises(DataError, match=r"destination 'ads': fields \['email'\] are personal data"):
        check_destination_fields(destination, ["email", "phone"], ["customer_id", "email"])


# --- webhook ---------------------------------------------------------------------------------------


class Endpoint(BaseHTTPRequestHandler):
    """A webhook receiver: fails the first `failures` requests, applies each idempotency key once."""

    failures = 0
    requests: list[str] = []
    applied: dict[str, int] = {}
    rows: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Idempotency-Key"]
        Endpoint.requests.append(key)
        if len(Endpoint.requests) <= Endpoint.failures:
            self.send_response(503)
            self.end_headers()
            return
        assert body["idempotency_key"] == key
        Endpoint.applied[key] = Endpoint.applied.get(key, 0) + 1
        Endpoint.rows.extend(body["changes"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> str:
    """A real HTTP server on loopback."""
    Endpoint.failures, Endpoint.requests, Endpoint.applied, Endpoint.rows = 0, [], {}, []
    server = HTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/segments"
    server.shutdown()


def changes_warehouse() -> Warehouse:
    """Five published customers, their golden records and the day's changes."""
    wh = Warehouse(":memory:")
    wh.execute(
        "create table published.customer_segments as select ?::date as as_of, 'C' || i as customer_id, "
        "i % 2 = 0 as marketing_consent, null::varchar as run_id from range(5) t(i)",
        [DAY],
    )
    wh.execute(
        "create table core.customers as select 'C' || i as customer_id, 'p' || i || '@example.com' as email, "
        "'+861380013800' || i as phone, null::varchar as full_name, null::varchar as gender, null::date as birth_date, "
        "null::varchar as device_id, null::varchar as address, null::varchar as city, null::varchar as province, "
        "null::varchar as postcode, null::varchar as country from range(5) t(i)"
    )
    wh.execute(
        "create table published.segment_changes as select ?::date as as_of, 'rfm' as scheme, 'Champions' as segment, "
        "'C' || i as customer_id, 'entered' as change, null::date as previous_as_of from range(5) t(i)",
        [DAY],
    )
    wh.execute(
        "create table audit.suppression (kind varchar, value_sha256 varchar, origin varchar, added_at timestamptz)"
    )
    wh.execute(  # C4 is known only by a device id
        "create table core.identity_map as select 'crm' as source, "
        "case when i = 4 then 'device:d4' else 'M' || i end as source_id, 'C' || i as customer_id from range(5) t(i)"
    )
    return wh


def hook(url: str, **options: object) -> DestinationConfig:
    return DestinationConfig(
        name="crm_hook",
        kind="webhook",
        mode="changes",
        url=url,
        fields=["customer_id", "email", "source_ids"],
        transforms={"email": "sha256"},
        batch_size=2,
        backoff_seconds=0.01,
        **options,
    )


def test_webhook_batches_are_applied_exactly_once_across_retries_and_reruns(endpoint: str) -> None:
    Endpoint.failures = 2  # the first two requests get a 503
    wh = changes_warehouse()
    first = deliver_webhook(wh, hook(endpoint), DAY, ["email", "phone"])
    assert first == {"rows": 5, "batches": 3, "sent": 3, "already_delivered": 0}
    assert len(Endpoint.requests) == 5  # 2 failed tries of batch 1, then batches 1, 2, 3
    assert (
        Endpoint.requests[0] == Endpoint.requests[1] == Endpoint.requests[2]
    )  # a retry resends the same key
    assert sorted(Endpoint.applied.values()) == [1, 1, 1]
    assert [r["customer_id"] for r in Endpoint.rows] == ["C0", "C1", "C2", "C3", "C4"]
    assert Endpoint.rows[0]["email"] == hashlib.sha256(b"p0@example.com").hexdigest()
    assert "phone" not in Endpoint.rows[0]
    # the CRM's own ids go with the rows (null: no source gave one)
    assert [r["source_ids"] for r in Endpoint.rows] == ["crm:M0", "crm:M1", "crm:M2", "crm:M3", None]

    again = deliver_webhook(wh, hook(endpoint), DAY, ["email", "phone"])  # a rerun of the same day
    assert again == {"rows": 5, "batches": 3, "sent": 0, "already_delivered": 3}
    assert len(Endpoint.requests) == 5
    assert wh.rows("select batch, rows, attempts, status_code from published.deliveries order by batch") == [
        (1, 2, 3, 200),
        (2, 2, 1, 200),
        (3, 1, 1, 200),
    ]


def test_keys_are_deterministic_per_destination_day_batch_and_content() -> None:
    rows = [{"customer_id": "C1", "change": "entered"}]
    assert idempotency_key("a", DAY, 1, rows) == idempotency_key("a", DAY, 1, [dict(rows[0])])
    assert idempotency_key("a", DAY, 1, rows) != idempotency_key("a", DAY, 2, rows)
    assert idempotency_key("a", DAY, 1, rows) != idempotency_key("b", DAY, 1, rows)
    assert batches(list(range(5)), 2) == [[0, 1], [2, 3], [4]]


def test_marketing_webhook_leaves_out_customers_without_consent(endpoint: str) -> None:
    wh = changes_warehouse()
    deliver_webhook(wh, hook(endpoint, purpose="marketing"), DAY, ["email", "phone"])
    assert [r["customer_id"] for r in Endpoint.rows] == ["C0", "C2", "C4"]


def test_an_endpoint_that_keeps_failing_gives_a_clear_error(endpoint: str) -> None:
    Endpoint.failures = 100
    wh = changes_warehouse()
    with pytest.raises(DeliveryError) as caught:
        deliver_webhook(wh, hook(endpoint, max_attempts=3), DAY, ["email", "phone"])
    assert str(caught.value).startswith(
        f"destination 'crm_hook': POST to {endpoint} failed after 3 attempt(s) (batch 1 of 3, key "
    )
    assert str(caught.value).endswith("last answer: HTTP 503: ")
    assert len(Endpoint.requests) == 3
    assert wh.scalar("select count(*) from published.deliveries") == 0


def test_a_failed_delivery_says_the_day_is_published_and_what_a_rerun_sends(endpoint: str) -> None:
    Endpoint.failures = 100
    config = SimpleNamespace(
        destinations=[hook(endpoint, max_attempts=1)], privacy=SimpleNamespace(pii_fields=[])
    )
    with pytest.raises(DeliveryError) as caught:
        deliver_all(changes_warehouse(), config, DAY)
    assert str(caught.value).endswith(
        f"last answer: HTTP 503: . The day {DAY} is published (tables and export files); run the same day again "
        "once the endpoint answers: only the batches not delivered yet are sent"
    )


# --- the HTML report in headless Chromium ------------------------------------------------------------

# report_data of a day with predictions and the act stage (tests/unit/publish/test_report.py)
REPORT_DATA = {**DATA, "act": ACT}


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and raw scanlines (filters undone) of an 8-bit RGB/RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw, stride, lines, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        lines.append(bytes(line))
        previous = line
    return width, height, lines


def test_the_report_is_self_contained_and_its_charts_draw_in_chromium(tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install chromium (make test installs it)"
    html = render_html(REPORT_DATA)
    assert html.count("* plotly.js v") == 1  # plotly.js embedded once, in the head
    assert "<script src=" not in html and 'src="http' not in html  # nothing loaded from a network
    report = tmp_path / "report.html"
    report.write_text(html, encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--window-size=1200,2000",
        "--virtual-time-budget=10000",
    ]
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120
    ).stdout
    charts = dom.split('id="chart-')[1:]
    figures = report_figures(REPORT_DATA)
    assert len(charts) == len(figures) == 26
    assert all('class="main-svg"' in chart for chart in charts)  # every chart drew its svg
    assert dom.count('class="hm"') == 2  # the R x F and cluster profile heatmap traces
    # drawn points: one per bar and one per marker of every trace (lines and heatmaps have none)
    points = re.findall(r'class="point[" ]', dom)  # a point with customdata is "point plotly-customdata"
    assert len(points) == sum(
        len(t["x"])
        for _, figure in figures
        for t in figure["data"]
        if t["type"] == "bar" or (t["type"] == "scatter" and "markers" in t.get("mode", ""))
    )

    screenshot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={screenshot}", report.as_uri()], capture_output=True, timeout=120
    )
    width, height, lines = png_pixels(screenshot)
    assert (width, height) == (1200, 2000)
    colours = {line[x : x + 3] for line in lines[::10] for x in range(0, len(line), 40)}
    assert len(colours) > 20  # text, bars, a heatmap: many colours, not a blank page
    print(f"report screenshot: {screenshot}")


def test_chromium_draws_chinese_glyphs_not_empty_boxes(tmp_path: Path) -> None:
    """Without a CJK font (make test installs fonts-noto-cjk) every Han character is the same empty box,
    so two different names would render to the same pixels."""

    def shot(text: str) -> list[bytes]:
        page = tmp_path / f"{text}.html"
        page.write_text(f'<html><body style="font-size:96px">{text}</body></html>', encoding="utf-8")
        png = tmp_path / f"{text}.png"
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path / 'c'}",
                "--window-size=400,200",
                f"--screenshot={png}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
        )
        return png_pixels(png)[2]

    assert shot("张三") != shot("李四"), "Chinese renders as boxes: sudo apt-get install fonts-noto-cjk"


# --- config ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "message"),
    [
        ({"name": "h", "kind": "webhook", "mode": "changes"}, "a webhook destination needs url"),
        ({"name": "h", "kind": "webhook", "url": "http://x.test/h"}, "a webhook destination sends changes"),
        ({"name": "f", "kind": "files", "scheme": "rfn"}, "unknown scheme 'rfn'; schemes: rfm, rfm_cn,"),
        (
            {"name": "f", "kind": "files", "transforms": {"email": "sha256"}},
            "transforms for fields not in fields",
        ),
    ],
)
def test_destination_config_errors(destination: dict, message: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=message):
        DestinationConfig.model_validate(destination)


def test_suppression_list_is_stored_as_hashes_and_a_bad_line_is_named(tmp_path: Path) -> None:
    from tasks.publish.privacy import load_suppression
    from tasks.shared.config import PipelineConfig
    from tasks.shared.errors import DataError

    listed = tmp_path / "suppressed.txt"
    listed.write_text(
        "# list\nZhang@Example.com\n138 0013 8000  # by phone\nC0123456789abcdef\n", encoding="utf-8"
    )
    config = PipelineConfig.model_validate(
        {
            "warehouse": "w.duckdb",
            "base_dir": tmp_path,
            "privacy": {"suppression_file": "suppressed.txt"},
            "sources": [
                {
                    "name": "s",
                    "kind": "customers",
                    "format": "csv",
                    "path": "*.csv",
                    "columns": {"source_id": "id"},
                }
            ],
        }
    )
    wh = Warehouse(":memory:")
    assert load_suppression(wh, config) == 3
    assert sorted(wh.rows("select kind, value_sha256 from audit.suppression")) == sorted(
        [
            ("customer_id", sha256_hex("C0123456789abcdef")),
            ("email", sha256_hex("zhang@example.com")),
            ("phone", sha256_hex("+8613800138000")),
        ]
    )
    listed.write_text("zhang@example.com\nnot-a-contact\n", encoding="utf-8")
    with pytest.raises(
        DataError, match=r"suppressed.txt, line 2: 'not-a-contact' is not an email, phone or customer id"
    ):
        load_suppression(wh, config)

"""report.html in headless Chromium: every chart drawn with its points, Chinese labels as glyphs, not boxes.

Two published days of a small warehouse (the segment stage on 100 customers, published by the publish
stage's own functions), the report rendered from them, then Chromium run on the file with a virtual time
budget so plotly draws, and the DOM read back after the scripts ran.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tasks.act import ensure_act_tables
from tasks.publish.labels import FONT_STACK
from tasks.publish.report import render_html, report_data, report_figures
from tasks.publish.report_charts import Figure
from tasks.publish.tables import publish_changes, replace_day
from tasks.segment import segment_all
from tasks.shared.config import SegmentConfig
from tasks.shared.warehouse import Warehouse
from tests.unit.publish.test_report import ACT
from tests.unit.segment.test_naming import write_features

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DAY1 = date(2026, 3, 24)
DAY2 = DAY1 + timedelta(days=7)

# Appended to a copy of the report (never to the product): draws text with the report's font stack on a
# canvas and compares pixels. Two private-use characters have no glyph in any font: both are the same
# empty box (the control: boxes are indistinguishable). Two different Chinese names are the same boxes
# too when no font has Han glyphs, and differ when one does.
GLYPH_CHECK = """
<script>
(function () {
  function pixels(text) {
    var canvas = document.createElement("canvas");
    canvas.width = 400; canvas.height = 80;
    var ctx = canvas.getContext("2d");
    ctx.font = "48px " + FONT_STACK;
    ctx.fillStyle = "#000";
    ctx.fillText(text, 4, 60);
    var data = ctx.getImageData(0, 0, 400, 80).data, sum = 0, ink = 0;
    for (var i = 3; i < data.length; i += 4) { sum = (sum * 31 + data[i]) % 1000000007; if (data[i]) ink++; }
    return {sum: sum, ink: ink, width: ctx.measureText(text).width};
  }
  var a = pixels("冠军客户"), b = pixels("流失预警"), p = pixels("\\uE000\\uE001\\uE002\\uE003"),
      q = pixels("\\uE010\\uE011\\uE012\\uE013");
  var out = document.createElement("pre");
  out.id = "glyph-check";
  out.textContent = "han_differ=" + (a.sum !== b.sum) + " han_ink=" + (a.ink > 0 && b.ink > 0) +
    " boxes_same=" + (p.sum === q.sum) + " han_unlike_box=" + (a.sum !== p.sum);
  document.body.appendChild(out);
})();
</script>
"""


def chromium(*args: str, tmp: Path, size: str = "1400,6000", env: dict[str, str] | None = None) -> str:
    """Run headless Chromium with a virtual time budget (plotly draws); its stdout."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--hide-scrollbars",
        f"--user-data-dir={tmp / 'chromium'}",
        f"--window-size={size}",
        "--virtual-time-budget=10000",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=180, env=env
    ).stdout


def expected_points(figure: Figure) -> int:
    """The points plotly draws for a figure: one per bar, one per marker (lines and heatmaps have none)."""
    points = 0
    for trace in figure["data"]:
        if trace["type"] == "bar" or (trace["type"] == "scatter" and "markers" in trace.get("mode", "")):
            points += len(trace["x"])
    return points


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    """Two published days of 100 customers (ten more buyers on the second), the second day's report data and file."""
    wh = Warehouse(":memory:")
    ensure_act_tables(wh)  # empty: the published rows read the act stage's recommendations
    for day, new_buyers in ((DAY1, 0), (DAY2, 10)):
        write_features(wh, day, new_buyers)
        segment_all(wh, SegmentConfig(clusters=3), day, f"run-{day}")
        replace_day(wh, "published.customer_segments", day, {"run_id": f"run-{day}"})
        publish_changes(wh, day)
    # churn risk tiers on the second day, as the predict stage would publish them
    wh.execute(
        "update published.customer_segments set risk_tier = case when recency_days > 30 then 'high' "
        "else 'low' end, risk_tier_zh = case when recency_days > 30 then '高' else '低' end "
        "where as_of = ? and frequency is not null",
        [DAY2],
    )
    data = report_data(wh, DAY2, {"run_id": "run-2", "config_hash": "abc", "act": ACT}, language="zh")
    wh.close()
    folder = tmp_path_factory.mktemp("report")
    page = folder / "report.html"
    page.write_text(render_html(data), encoding="utf-8")
    yield data, page


def test_cjk_fonts_are_installed() -> None:
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    assert "Noto Sans CJK SC" in fonts, "install a CJK font: apt-get install fonts-noto-cjk"


def test_every_chart_draws_its_points_with_chinese_labels(report: tuple[dict[str, Any], Path]) -> None:
    data, page = report
    assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install chromium"
    figures = report_figures(data)
    dom = chromium("--dump-dom", page.as_uri(), tmp=page.parent)
    charts = re.split(r'<div id="chart-\d+"', dom)[1:]
    assert len(charts) == len(figures) == 31
    for (title, figure), chart in zip(figures, charts, strict=True):
        assert 'class="main-svg"' in chart, title
        drawn = len(re.findall(r'class="point[" ]', chart.split('class="chart')[0]))
        assert drawn == expected_points(figure), title
    for label in (
        "冠军客户 (Champions)",
        "未购买客户 (No Purchase)",
        "重要价值客户 (Important Value)",
        "高价值 (High value)",
    ):
        assert f">{label}<" in dom, label  # an axis tick of the SVG, drawn by plotly
    assert "高 (High risk)" in dom and "挽回沉睡客户 (Win back sleepers)" in dom
    cluster_names = {row[3] for row in data["segments"] if row[1] == "cluster"}
    assert all(f">{name} (" in dom for name in cluster_names)  # clusters by name, not by id
    assert "客户分群报告 Customer segments report 2026-03-31" in dom


def glyph_check(page: Path, env: dict[str, str] | None = None) -> str:
    """The GLYPH_CHECK line of a copy of the report, as Chromium computes it."""
    copy = page.with_name("glyph-check.html")
    script = GLYPH_CHECK.replace("FONT_STACK", repr(FONT_STACK))
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", script + "</body>"), encoding="utf-8")
    profile = page.parent / ("fonts-limited" if env else "fonts-system")
    profile.mkdir(exist_ok=True)
    dom = chromium("--dump-dom", copy.as_uri(), tmp=profile, env=env)
    (check,) = re.findall(r'<pre id="glyph-check">([^<]*)</pre>', dom)
    return check


def test_chinese_renders_as_glyphs_in_the_report_font_stack(report: tuple[dict[str, Any], Path]) -> None:
    _, page = report
    assert glyph_check(page) == "han_differ=true han_ink=true boxes_same=true han_unlike_box=true"


def test_the_glyph_check_fails_without_a_cjk_font(
    report: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    """The same check where fontconfig sees only DejaVu (no Han glyphs): the Chinese names are boxes."""
    _, page = report
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(config)}
    assert "Noto" not in subprocess.run(["fc-list"], capture_output=True, text=True, env=env).stdout
    assert glyph_check(page, env) == "han_differ=false han_ink=true boxes_same=true han_unlike_box=false"


def test_a_full_page_screenshot_is_not_blank(report: tuple[dict[str, Any], Path]) -> None:
    _, page = report
    shot = page.with_name("report.png")
    chromium(f"--screenshot={shot}", page.as_uri(), tmp=page.parent, size="1400,3000")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100_000  # charts and text, not one colour

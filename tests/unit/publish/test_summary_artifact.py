"""The run summary artifact: the key figures of a publish in Markdown, paths as text (no file:// links)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tasks.publish import publish_tables
from tasks.publish.exports import change_counts
from tasks.publish.summary import summary_figures, summary_markdown
from tasks.shared.warehouse import Warehouse
from tests.models.helpers import SEGMENTS_AS_OF, build_segments

DAY2 = SEGMENTS_AS_OF + timedelta(days=1)

FIRST_DAY = """\
# Customer segments as of 2026-03-31

Run `run-1` · config `hash-a`

| customers published | scored (with a purchase) | not scored | rows quarantined in this run |
| ---: | ---: | ---: | ---: |
| 3 | 2 | 1 | 0 |

## RFM segments

| segment | 中文 | customers | share |
| --- | --- | ---: | ---: |
| Champions | 冠军客户 | 1 | 33.3% |
| Lost | 已流失客户 | 1 | 33.3% |
| No Purchase | 未购买客户 | 1 | 33.3% |

## Value tiers

| tier | 中文 | customers | share |
| --- | --- | ---: | ---: |
| high | 高价值 | 1 | 33.3% |
| low | 低价值 | 1 | 33.3% |
| none | 未消费 | 1 | 33.3% |

## Lifecycle stages

| stage | 中文 | customers | share |
| --- | --- | ---: | ---: |
| active | 活跃 | 1 | 33.3% |
| churned | 流失 | 1 | 33.3% |
| never_purchased | 未付费 | 1 | 33.3% |

## Membership changes (first published day: every membership is new)

| scheme | entered | exited |
| --- | ---: | ---: |
| rfm | 3 | 0 |
| rfm_cn | 3 | 0 |
| tier | 3 | 0 |
| lifecycle | 3 | 0 |
| rules | 3 | 0 |
| cluster | 3 | 0 |

## Files

On the machine that ran the flow (paths to copy; the Prefect UI cannot open local files):

- Export folder: `/data/exports/2026-03-31`
- HTML report (charts): `/data/exports/2026-03-31/report.html`
- Markdown report: `/data/exports/2026-03-31/report.md`
"""

SECOND_DAY = """\
# Customer segments as of 2026-04-01

Run `run-2` · config `hash-a`

**Partial day: 2026-04-01 had not ended in Asia/Shanghai when this run started, so these segments hold only \
the data loaded by then; the first run after the day ends computes and publishes it again.**

| customers published | scored (with a purchase) | not scored | rows quarantined in this run |
| ---: | ---: | ---: | ---: |
| 3 | 2 | 1 | 1,200 |

## RFM segments

| segment | 中文 | customers | share |
| --- | --- | ---: | ---: |
| Lost | 已流失客户 | 2 | 66.7% |
| No Purchase | 未购买客户 | 1 | 33.3% |

## Value tiers

| tier | 中文 | customers | share |
| --- | --- | ---: | ---: |
| low | 低价值 | 2 | 66.7% |
| none | 未消费 | 1 | 33.3% |

## Lifecycle stages

| stage | 中文 | customers | share |
| --- | --- | ---: | ---: |
| active | 活跃 | 1 | 33.3% |
| churned | 流失 | 1 | 33.3% |
| never_purchased | 未付费 | 1 | 33.3% |

## Membership changes since 2026-03-31

| scheme | entered | exited |
| --- | ---: | ---: |
| rfm | 1 | 1 |
| tier | 1 | 1 |

No customer entered or left a segment of: rfm_cn, lifecycle, rules, cluster.

## Rows kept out of staging in this run

| source | quarantined | duplicates dropped |
| --- | ---: | ---: |
| crm | 1,200 | 3 |
| payments | 0 | 0 |

## Files

On the machine that ran the flow (paths to copy; the Prefect UI cannot open local files):

- Export folder: `/data/exports/2026-04-01`
- HTML report (charts): `/data/exports/2026-04-01/report.html`
- Markdown report: `/data/exports/2026-04-01/report.md`
"""


def artifact(wh: Warehouse, day: date, summary: dict) -> str:
    figures = summary_figures(wh, day, summary, change_counts(wh, day), Path(f"/data/exports/{day}"))
    return summary_markdown(figures)


def test_the_first_published_day(wh: Warehouse) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    assert artifact(wh, SEGMENTS_AS_OF, {"run_id": "run-1", "config_hash": "hash-a"}) == FIRST_DAY


def test_a_partial_day_with_changes_since_the_previous_day_and_quarantined_rows(wh: Warehouse) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    build_segments(wh, DAY2)
    # C1 drops from Champions (high value) to Lost (low value)
    wh.execute(
        "update segments.customer_segments set rfm_segment = 'Lost', rfm_segment_zh = '已流失客户', "
        "value_tier = 'low', value_tier_zh = '低价值' where customer_id = 'C1'"
    )
    publish_tables(wh, DAY2, "run-2", "hash-a", partial=True)
    summary = {
        "run_id": "run-2",
        "config_hash": "hash-a",
        "partial": True,
        "timezone": "Asia/Shanghai",
        "extract": [
            {"source": "crm", "rows_quarantined": 1200, "duplicates_dropped": 3, "rows_read": 9},
            {"source": "payments", "rows_quarantined": 0, "duplicates_dropped": 0, "rows_read": 9},
        ],
    }
    markdown = artifact(wh, DAY2, summary)
    assert markdown == SECOND_DAY
    assert "file://" not in markdown and "](" not in markdown  # no links the Prefect UI cannot follow


def test_the_churn_risk_tiers_of_the_day(wh: Warehouse) -> None:
    build_segments(wh, SEGMENTS_AS_OF)
    wh.execute(
        "update segments.customer_segments set risk_tier = 'high', risk_tier_zh = '高', churn_risk = 0.9 "
        "where customer_id in ('C1', 'C2')"
    )
    publish_tables(wh, SEGMENTS_AS_OF, "run-1", "hash-a")
    markdown = artifact(wh, SEGMENTS_AS_OF, {"run_id": "run-1", "config_hash": "hash-a"})
    section = markdown.split("## Churn risk tiers (流失风险)\n\n")[1].split("\n\n")[0]
    assert section == (
        "| risk tier | 中文 | customers | share |\n| --- | --- | ---: | ---: |\n| high | 高 | 2 | 66.7% |"
    )

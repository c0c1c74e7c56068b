"""End-to-end runs of the real flows under Prefect's test harness, on small data in tmp_path."""

import hashlib
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from prefect.client.schemas.objects import State

from flows.backfill import backfill
from flows.daily_refresh import daily_refresh
from tasks.shared.config import load_config
from tasks.shared.warehouse import Warehouse
from tests.conftest import SAMPLE_END

pytestmark = pytest.mark.e2e


def published(config_path: Path, as_of: date) -> list[tuple]:
    """The published rows of one as_of, without the run id, in customer order."""
    config = load_config(config_path)
    with Warehouse.open(config, read_only=True) as wh:
        return wh.rows(
            "select * exclude (run_id) from published.customer_segments where as_of = ? order by customer_id",
            [as_of],
        )


def customer_id(source: str, source_id: str) -> str:
    """The id a cluster anchored on this record gets (see sql/core/identity_map.sql)."""
    return "C" + hashlib.md5(f"{source}:{source_id}".encode()).hexdigest()[:16]


PLAIN_TRANSACTIONS = """TxnId,InvoiceNo,CustomerID,Quantity,UnitPrice,InvoiceDate,Status
1,O1,1001.0,2,50.00,2026-03-01 10:00:00,paid
2,O1,1001.0,-1,50.00,2026-03-05 12:00:00,refunded
3,O2,1001.0,1,30.00,2026-03-20 09:00:00,paid
4,O3,1002.0,1,100.00,2026-02-01 08:00:00,paid
5,O3,1002.0,-1,100.00,2026-02-02 08:00:00,cancelled
6,O4,1002.0,1,10.00,2026-01-15 23:30:00,paid
7,O5,1003.0,1,99.00,2026-03-10 10:00:00,failed
8,O6,1004.0,1,20.00,2026-04-02 10:00:00,paid
9,O7,1005.0,1,200.00,2026-03-31T15:59:00+00:00,paid
10,O8,1005.0,1,500.00,2026-03-31T16:30:00+00:00,paid
"""

PLAIN_CONFIG = """
warehouse: warehouse.duckdb
timezone: Asia/Shanghai
exports: exports
sources:
  - name: shop
    kind: transactions
    format: csv
    path: transactions.csv
    columns:
      txn_id: TxnId
      order_id: InvoiceNo
      customer_ref: "cast(cast(CustomerID as double) as bigint)"
      amount: "cast(Quantity as int) * cast(UnitPrice as decimal(18,2))"
      ts: InvoiceDate
      status: Status
"""


def test_rfm_on_a_plain_transactions_csv_matches_hand_computed_values(
    prefect_server: None, tmp_path: Path
) -> None:
    (tmp_path / "transactions.csv").write_text(PLAIN_TRANSACTIONS, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(PLAIN_CONFIG, encoding="utf-8")

    summary = daily_refresh(as_of=date(2026, 3, 31), config=str(config))

    rows = pl.DataFrame(
        published(config, date(2026, 3, 31)),
        schema=[
            "as_of",
            "customer_id",
            "recency_days",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "rfm_segment",
            "rfm_segment_zh",
        ]
        + [f"c{i}" for i in range(29)],
        orient="row",
    )
    got = {
        row["customer_id"]: (
            row["recency_days"],
            row["frequency"],
            row["monetary"],
            row["r_score"],
            row["f_score"],
            row["m_score"],
            row["rfm_segment"],
        )
        for row in rows.iter_rows(named=True)
    }
    from decimal import Decimal

    assert got == {
        # O1 nets 100 - 50 = 50 (refund), O2 30: two purchases, last on 03-20
        customer_id("shop", "1001"): (11, 2, Decimal("80.00"), 2, 4, 2, "At Risk"),
        # O3 cancelled (nets to 0, not a purchase), O4 on 01-15 local time
        customer_id("shop", "1002"): (75, 1, Decimal("10.00"), 1, 1, 1, "Lost"),
        # a failed payment is not a purchase: the customer stays, unscored, in the fallback segment
        customer_id("shop", "1003"): (None, None, None, None, None, None, "No Purchase"),
        # 15:59 UTC is 23:59 on 03-31 in Shanghai: counts; 16:30 UTC is already 04-01: does not
        customer_id("shop", "1005"): (0, 1, Decimal("200.00"), 4, 1, 4, "Potential Loyalist"),
    }  # 1004 only appears on 04-02: not a customer yet as of 03-31
    assert summary["extract"] == [
        {
            "source": "shop",
            "kind": "transactions",
            "files": 1,
            "files_loaded": 1,
            "rows_read": 10,
            "rows_staged": 10,
            "rows_quarantined": 0,
            "duplicates_dropped": 0,
            "status": "loaded",
            "rows_unattributed": 0,
            "rows_erased": 0,
            "rows_filtered": 0,
        }
    ]
    assert summary["dedupe"]["customers"] == 4
    # a first run on a fresh warehouse: every id is new
    assert summary["dedupe"]["ids"] == {"mode": "forward", "new_customers": 4, "merges": 0, "splits": 0}
    assert summary["segments"]["scored"] == 3


def test_daily_refresh_on_sample_data(sample_refresh: tuple[Path, State]) -> None:
    config_path, state = sample_refresh
    summary = state.result()
    config = load_config(config_path)

    loads = {load["source"]: load for load in summary["extract"]}
    assert set(loads) == {"crm", "game", "payments", "social", "survey"}
    for load in loads.values():
        assert (
            load["rows_read"] == load["rows_staged"] + load["rows_quarantined"] + load["duplicates_dropped"]
        )
        assert load["rows_staged"] > 0
    # the generator plants faults in crm, game and payments: each must be caught
    assert loads["crm"]["rows_quarantined"] > 0
    assert loads["game"]["rows_quarantined"] > 0
    assert loads["payments"]["rows_quarantined"] > 0
    # and its exact duplicate rows are dropped, not counted twice
    assert loads["crm"]["duplicates_dropped"] > 0
    assert loads["payments"]["duplicates_dropped"] > 0

    with Warehouse.open(config, read_only=True) as wh:
        quarantined = wh.scalar("select count(*) from audit.quarantine")
        assert quarantined == sum(load["rows_quarantined"] for load in loads.values())
        assert wh.scalar("select count(*) from audit.quarantine where reason is null or file is null") == 0
        customers = wh.scalar("select count(distinct customer_id) from core.identity_map")
        assert customers == summary["dedupe"]["customers"]
        assert wh.scalar("select count(*) from published.customer_segments") == customers
        assert wh.scalar("select count(*) from core.customers") == customers
        sizes = dict(
            wh.rows(
                "select coalesce(rfm_segment, '(not scored)'), count(*) from published.customer_segments group by all"
            )
        )
    assert sizes == summary["segments"]["rfm_segments"]
    with Warehouse.open(config, read_only=True) as wh:
        # every customer has a tier and a lifecycle stage; every scored one a class of both RFM schemes,
        # every other one the fallback segment of both
        assert wh.rows(
            """
            select
                count(*) filter (where value_tier is null or lifecycle_stage is null),
                count(*) filter (where frequency is not null and (rfm_segment is null or rfm_cn_class is null)),
                count(distinct rfm_cn_class) filter (where frequency is not null),
                count(distinct lifecycle_stage),
                count(*) filter (where frequency is null and (rfm_segment, rfm_cn_class) <> ('No Purchase', '未购买客户'))
            from published.customer_segments
            """
        ) == [(0, 0, 8, 5, 0)]
    assert sum(sizes.values()) == customers

    export_dir = Path(summary["publish"]["export_dir"])
    assert export_dir == config.exports_path / SAMPLE_END.isoformat()
    assert sorted(p.name for p in export_dir.iterdir()) == [
        "customer_segments.csv",
        "customer_segments.parquet",
        "manifest.json",
        "outreach",
        "recommendations.csv",
        "report.html",
        "report.md",
        "segment_sizes.csv",
    ]
    assert sorted(p.name for p in (export_dir / "outreach").iterdir()) == [
        "email.csv",
        "in_game.csv",
        "sms.csv",
    ]
    import json

    manifest = json.loads((export_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["as_of"] == SAMPLE_END.isoformat()
    assert manifest["row_counts"]["customer_segments"] == customers
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((export_dir / name).read_bytes()).hexdigest() == entry["sha256"]
    assert (export_dir / "customer_segments.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert pl.read_parquet(export_dir / "customer_segments.parquet").height == customers
    assert (
        (export_dir / "report.md")
        .read_text(encoding="utf-8")
        .startswith(f"# 客户分群 Customer segments {SAMPLE_END}")
    )
    with Warehouse.open(config, read_only=True) as wh:
        listed = dict(
            wh.rows(
                "select channel, count(*) from published.outreach where as_of = ? group by all", [SAMPLE_END]
            )
        )
        held_out_listed = wh.scalar(
            "select count(*) from published.outreach join published.audience_members using (as_of, customer_id) "
            "where as_of = ? and holdout",
            [SAMPLE_END],
        )
    files = {c: pl.read_csv(export_dir / "outreach" / f"{c}.csv").height for c in ("email", "in_game", "sms")}
    assert files == {c: listed.get(c, 0) for c in files}
    assert sum(files.values()) > 0
    assert held_out_listed == 0
    # personal data: the file (or the lake's data folder) is its owner's only
    assert oct(config.warehouse_path.stat().st_mode & 0o777) == ("0o600" if config.lake is None else "0o700")


def test_same_as_of_twice_gives_identical_published_rows(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config_path = make_config(sample_data)
    day = date(2026, 9, 30)
    daily_refresh(as_of=day, config=str(config_path))
    first = published(config_path, day)
    daily_refresh(as_of=day, config=str(config_path))
    second = published(config_path, day)

    assert len(first) > 1000
    assert second == first
    with Warehouse.open(load_config(config_path), read_only=True) as wh:
        assert wh.scalar("select count(*) from published.customer_segments") == len(first)
        assert wh.scalar("select count(*) from published.runs where as_of = ?", [day]) == 2


def test_records_after_as_of_never_affect_it(
    prefect_server: None, sample_data: Path, sample_copy: Path, make_config
) -> None:
    day = date(2026, 6, 30)
    # Later data: a payment with one member's id and another member's phone (two people then hold that phone,
    # and it links nobody: tasks/dedupe/households.py), a big purchase by an existing member, and a new member
    # who signs up later.
    members = pl.read_csv(sample_copy / "crm" / "members.csv", encoding="gbk", infer_schema=False).filter(
        pl.col("手机").str.contains(r"^1\d{10}$") & (pl.col("注册时间") < "2026-01-01")
    )
    first, second = members.row(0, named=True), members.row(1, named=True)
    (sample_copy / "payments" / "later.csv").write_text(
        "txn_id,order_id,member_id,phone,email,amount,currency,status,channel,created_at\n"
        f"TX1,OX1,{first['会员编号']},{second['手机']},,648.00,CNY,SUCCESS,支付宝,2026-07-01T00:00:01+08:00\n"
        f"TX2,OX2,{second['会员编号']},,,328.00,CNY,SUCCESS,微信支付,2026-07-15T10:00:00+08:00\n",
        encoding="utf-8",
    )
    with (sample_copy / "crm" / "members.csv").open("ab") as handle:
        handle.write(
            "MX00001,新会员,13912345670,,男,1990-01-01,北京,北京,2026-07-02 10:00:00,2026-07-02 10:00:00,是\n".encode(
                "gbk"
            )
        )

    before = make_config(sample_data)
    after = make_config(sample_copy)
    daily_refresh(as_of=day, config=str(before))
    daily_refresh(as_of=day, config=str(after))
    assert published(after, day) == published(before, day)

    # control: the same additions do change a later day
    later = date(2026, 7, 31)
    daily_refresh(as_of=later, config=str(before))
    daily_refresh(as_of=later, config=str(after))
    assert published(after, later) != published(before, later)
    assert len(published(after, later)) == len(published(before, later)) + 1  # the new member


def test_backfill_runs_each_day_once_and_skips_published_days(
    prefect_server: None, sample_data: Path, make_config
) -> None:
    config_path = make_config(sample_data)
    done = backfill(start=date(2026, 11, 20), end=date(2026, 11, 22), config=str(config_path))
    assert done == ["2026-11-20", "2026-11-21", "2026-11-22"]
    # 19 is new; 20, 21 and 22, published before it, follow it (their changes compare with the day before)
    again = backfill(start=date(2026, 11, 19), end=date(2026, 11, 21), config=str(config_path))
    assert again == ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"]
    with Warehouse.open(load_config(config_path), read_only=True) as wh:
        assert wh.rows("select as_of, count(*) from published.runs group by all order by 1") == [
            (date(2026, 11, 19), 1),
            (date(2026, 11, 20), 2),
            (date(2026, 11, 21), 2),
            (date(2026, 11, 22), 2),
        ]
    # nothing new in the range: nothing is computed, nothing follows
    assert backfill(start=date(2026, 11, 20), end=date(2026, 11, 21), config=str(config_path)) == []
    shutil.rmtree(load_config(config_path).exports_path)

"""One more day of source data for incremental-refresh tests, written as new files beside the generated sample.

Each day brings what a real daily load brings, chosen from the sample's own members by position so
that the same call always writes the same rows:

- new game sessions and payments of existing members on the day;
- late rows: sessions and payments timestamped days before it (they correct earlier days);
- a refund of an order paid before (an older order's net amount changes);
- CRM rows: a re-registration (a new member id with an existing member's phone and e-mail: merges
  into them), a changed version of an existing member (new city and phone, updated that day), a
  bridging member (one member's phone and another member's e-mail, and no name, sex or birth date: merges
  those two customers; with a name of one and the e-mail of another it would be a second person holding that
  e-mail, which links nobody) and a brand-new member.
"""

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import duckdb

SESSIONS_PER_DAY = 40
PAYMENTS_PER_DAY = 25


def _members(data_dir: Path) -> list[dict[str, str]]:
    """The sample's CRM members (the generated GBK export), in member id order."""
    text = (data_dir / "crm" / "members.csv").read_bytes().decode("gbk")
    return sorted(csv.DictReader(io.StringIO(text)), key=lambda row: row["会员编号"])


def _contactable(members: list[dict[str, str]]) -> list[dict[str, str]]:
    """Members with both a phone and an e-mail (the bridging record needs both)."""
    return [m for m in members if m["手机"] and m["邮箱"]]


def write_day(data_dir: Path, day: date, index: int) -> dict[str, int]:
    """Write day `day`'s files (the index-th such day: picks different members each day); rows per source."""
    members = _members(data_dir)
    contactable = _contactable(members)
    stamp = day.isoformat()
    written = {
        "game": _write_sessions(data_dir, day, index, members),
        "payments": _write_payments(data_dir, day, index, members),
    }
    base = 7 * index
    again, changed = contactable[base], contactable[base + 1]
    phone_of, email_of = contactable[base + 2], contactable[base + 3]
    rows = [
        {  # a re-registration: the member's phone and e-mail under a new id
            **again,
            "会员编号": f"R{stamp.replace('-', '')}",
            "注册时间": f"{stamp} 09:00:00",
            "更新时间": f"{stamp} 09:00:00",
        },
        {  # a new version of an existing member: moved and changed phone
            **changed,
            "城市": "成都" if changed["城市"] != "成都" else "重庆",
            "手机": f"139{index:04d}{day.day:04d}",
            "更新时间": f"{stamp} 10:00:00",
        },
        {  # a bridge: one member's phone and another member's e-mail, nothing that tells people apart
            **phone_of,
            "会员编号": f"B{stamp.replace('-', '')}",
            "姓名": "",
            "性别": "",
            "出生日期": "",
            "邮箱": email_of["邮箱"],
            "注册时间": f"{stamp} 11:00:00",
            "更新时间": f"{stamp} 11:00:00",
        },
        {  # somebody new
            "会员编号": f"N{stamp.replace('-', '')}",
            "姓名": "新用户" + "甲乙丙丁戊己庚辛"[index % 8],
            "手机": f"137{index:04d}{day.day:04d}",
            "邮箱": f"new{index}.{day.day}@example.cn",
            "性别": "女",
            "出生日期": "1990-05-0" + str(1 + index % 9),
            "城市": "杭州",
            "省份": "浙江",
            "注册时间": f"{stamp} 12:00:00",
            "更新时间": f"{stamp} 12:00:00",
            "营销同意": "是",
        },
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(members[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (data_dir / "crm" / f"members-{stamp}.csv").write_bytes(out.getvalue().encode("gbk"))
    written["crm"] = len(rows)
    return written


def _write_sessions(data_dir: Path, day: date, index: int, members: list[dict[str, str]]) -> int:
    """Sessions of members on the day, and a fifth of them late (three days before)."""
    rows = []
    games = ("斗地主", "麻将", "德州扑克")
    for n in range(SESSIONS_PER_DAY):
        member = members[(index * SESSIONS_PER_DAY + 3 * n) % len(members)]["会员编号"]
        late = n % 5 == 0
        when = day - timedelta(days=3) if late else day
        rows.append(
            (
                f"S{day:%Y%m%d}{n:04d}",
                member,
                None,
                games[(n + index) % 3],
                f"{when.isoformat()} {8 + n % 14:02d}:{n % 60:02d}:00",
                60 + 37 * n,
                100,
            )
        )
    path = data_dir / "game" / f"sessions-{day.isoformat()}.parquet"
    with duckdb.connect() as con:
        con.execute(
            "create table s (session_id varchar, member_id varchar, device_id varchar, game_type varchar, "
            "start_time varchar, duration_s bigint, stake bigint)"
        )
        con.executemany("insert into s values (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute(f"copy s to '{path}' (format parquet)")
    return len(rows)


def _write_payments(data_dir: Path, day: date, index: int, members: list[dict[str, str]]) -> int:
    """Payments of members on the day, late payments (four days before) and a refund of an earlier order."""
    header = "txn_id,order_id,member_id,phone,email,amount,currency,status,channel,created_at"
    lines = [header]
    for n in range(PAYMENTS_PER_DAY):
        member = members[(index * PAYMENTS_PER_DAY + 5 * n + 1) % len(members)]["会员编号"]
        late = n % 6 == 0
        when = day - timedelta(days=4) if late else day
        lines.append(
            f"T{day:%Y%m%d}{n:04d},O{day:%Y%m%d}{n:04d},{member},,,{30 + 7 * n}.00,CNY,SUCCESS,微信支付,"
            f"{when.isoformat()}T{9 + n % 12:02d}:15:00+08:00"
        )
    refunded = _paid_order(data_dir, index)
    if refunded:
        order, member, amount = refunded
        lines.append(
            f"T{day:%Y%m%d}R,{order},{member},,,-{amount},CNY,REFUND,微信支付,{day.isoformat()}T20:00:00+08:00"
        )
    (data_dir / "payments" / f"payments-{day.isoformat()}.csv").write_text("\n".join(lines) + "\n")
    return len(lines) - 1


def _paid_order(data_dir: Path, index: int) -> tuple[str, str, str] | None:
    """The index-th paid order of a member in the generated payments: (order id, member id, amount)."""
    with duckdb.connect() as con:
        found = con.execute(
            "select order_id, member_id, amount from read_csv(?, all_varchar = true, header = true) "
            "where status = 'SUCCESS' and member_id is not null order by order_id limit 1 offset ?",
            [str(data_dir / "payments" / "payments.csv"), 11 * index],
        ).fetchall()
    return found[0] if found else None

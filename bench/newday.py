"""One more day of source data for an incremental refresh: the generator's last day, replayed a day later.

Every source that grows daily gets a new file (game sessions, payments, social events, CRM
sign-ups) holding the rows of the last generated day with their timestamps moved one day on and
fresh ids (prefix ``N``), so the incremental run reads only new files. Members referenced by the new
rows exist already; the new CRM rows are re-registrations of that day's members (same phone and
e-mail, new 会员编号), which dedupe merges. The survey (about 10% of persons, once) is not replayed.
"""

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import duckdb

# source -> (glob of the generated files, timestamp columns, id columns)
REPLAYED = {
    "game": ("game/sessions-*.parquet", ("start_time",), ("session_id",)),
    "payments": ("payments/payments.csv", ("created_at",), ("txn_id", "order_id")),
}
# source -> (the new file, COPY options)
TARGETS = {
    "game": ("game/sessions-next.parquet", "(format parquet)"),
    "payments": ("payments/payments-next.csv", "(format csv, header true)"),
}
SOCIAL_TARGET, CRM_TARGET = "social/social-next.jsonl", "crm/members-next.csv"


def _shift(column: str, last: date) -> str:
    """SQL: a text timestamp of day `last` moved to the next day (same time, same offset text)."""
    nxt = (last + timedelta(days=1)).isoformat()
    return f"'{nxt}' || substr(\"{column}\", 11)"


def write_next_day(data_dir: Path, last: date) -> dict[str, int]:
    """Write the day after `last` into data_dir as new files; return rows written per source."""
    day = last.isoformat()
    written = {}
    with duckdb.connect() as con:
        for source, (pattern, times, ids) in REPLAYED.items():
            path = str(data_dir / pattern)
            if source == "game":
                relation = f"read_parquet('{path}')"
            elif source == "payments":
                relation = f"read_csv('{path}', all_varchar = true, header = true)"
            replace = ", ".join(
                [f'{_shift(c, last)} as "{c}"' for c in times] + [f'\'N\' || "{c}" as "{c}"' for c in ids]
            )
            select = (
                f"select * replace ({replace}) from {relation} where starts_with(\"{times[0]}\", '{day}')"
            )
            target, options = TARGETS[source]
            # COPY answers with the number of rows it wrote: no second scan to count them
            (written[source],) = con.execute(f"copy ({select}) to '{data_dir / target}' {options}").fetchone()
        written["social"] = _write_social(con, data_dir, last)
        written["crm"] = _write_crm(con, data_dir, last)
    return written


def next_day_files(data_dir: Path) -> list[Path]:
    """The files write_next_day writes (those present), e.g. to remove them before reusing a sample."""
    names = [target for target, _ in TARGETS.values()] + [SOCIAL_TARGET, CRM_TARGET]
    return [data_dir / name for name in names if (data_dir / name).exists()]


def _write_social(con: duckdb.DuckDBPyConnection, data_dir: Path, last: date) -> int:
    """The last day's social events a day later with new ids, as JSON Lines (objects kept as they were)."""
    ts = "json_extract_string(json, '$.ts')"
    event_id = "json_extract_string(json, '$.event_id')"
    nxt = (last + timedelta(days=1)).isoformat()
    lines = con.execute(
        f"""
        select json_merge_patch(json, json_object('event_id', 'N' || {event_id}, 'ts', ? || substr({ts}, 11)))
        from read_ndjson_objects(?)
        where starts_with({ts}, ?)
        """,
        [nxt, str(data_dir / "social" / "social.jsonl"), last.isoformat()],
    ).fetchall()
    with (data_dir / SOCIAL_TARGET).open("w", encoding="utf-8") as out:
        out.writelines(f"{line}\n" for (line,) in lines)
    return len(lines)


def _write_crm(con: duckdb.DuckDBPyConnection, data_dir: Path, last: date) -> int:
    """The last day's sign-ups registered again the next day under new ids, as a GBK CSV like the export."""
    text = (data_dir / "crm" / "members.csv").read_bytes().decode("gbk")
    utf8 = data_dir / "crm" / ".members-utf8.tmp"
    utf8.write_text(text, encoding="utf-8")
    try:
        result = con.execute(
            f"""
            select * replace (
                'N' || "会员编号" as "会员编号",
                {_shift("注册时间", last)} as "注册时间",
                {_shift("注册时间", last)} as "更新时间"
            )
            from read_csv(?, all_varchar = true, header = true)
            where starts_with("注册时间", ?)
            """,
            [str(utf8), last.isoformat()],
        )
        header = [d[0] for d in result.description]
        rows = result.fetchall()
    finally:
        utf8.unlink()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    (data_dir / CRM_TARGET).write_bytes(out.getvalue().encode("gbk"))
    return len(rows)

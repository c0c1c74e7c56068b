"""A staged time or date: how its text is read (timestamp_sql, date_sql) and its checks (time_reasons): finite;
a time not in the future; a fact's time not a placeholder (before 1900, or the Unix epoch)."""

from datetime import datetime, timedelta

# A fact's time before this is a placeholder or a typo (0001-01-01, 1900-01-01), not customer activity.
EARLIEST_TIME = "1900-01-02 00:00:00+00"
# What a fact's time placeholder rule is (tasks.extract.load_state hashes it: a change restages the facts).
# 2: the Unix epoch, as a null written as 0 comes out (1970-01-01 00:00 in UTC or in the source's time zone).
TIME_PLACEHOLDERS = "fact time placeholders: 2"
# Timestamps more than this far past the load time are faults, not data.
FUTURE_TOLERANCE = timedelta(days=1)


def future_limit() -> datetime:
    """The load's future limit: a time past it is a fault (quarantined), and never a database source's watermark."""
    return datetime.now().astimezone() + FUTURE_TOLERANCE


def time_reasons(field: str, value: str, quoted: str, sql_type: str, fact: bool) -> list[str]:
    """SQL expressions, each null when the value passes, else the reason. value: the typed column; quoted: an
    open literal quoting the row's text ("'field ts: ''…'' is"); sql_type: timestamptz or date; fact: the row
    is an event, transaction or feedback. $future_limit is bound by the caller (now plus FUTURE_TOLERANCE).

    A customer record is never quarantined for an implausible birth date (public record-linkage sets hold
    birth dates after today): dedupe leaves such a date out of matching and the golden record (birth_date_norm).
    Nor for an old signup or update time: the record would be lost, not only the value."""
    what = "timestamp" if sql_type == "timestamptz" else "date"
    reasons = [f"case when not isfinite({value}) then {quoted} not a finite {what}' end"]
    if sql_type != "timestamptz":
        return reasons
    if fact:
        reasons.append(
            f"case when isfinite({value}) and {value} < timestamptz '{EARLIEST_TIME}' "
            f"then 'field {field}: ' || cast({value} as varchar) || ' is before 1900-01-02 (a placeholder?)' end"
        )
        reasons.append(
            f"case when {value} in (timestamptz '1970-01-01 00:00:00+00', timezone($tz, timestamp '1970-01-01')) "
            f"then 'field {field}: ' || cast({value} as varchar) || ' is the Unix epoch (a null written as 0?)' end"
        )
    reasons.append(
        f"case when isfinite({value}) and {value} > $future_limit "
        f"then 'field {field}: ' || cast({value} as varchar) || ' is in the future' end"
    )
    return reasons


# A timestamp that states its zone: Z, an offset after the time (+08, +0800, -05:00:00) or a zone name
# (UTC, America/New_York) at its end. It is cast as an instant; any other timestamp, whatever its
# layout (2026-03-01 23:30, 2026/03/01 23:30:00), is local time in the source's time zone.
ZONED_TIMESTAMP = (
    r"([0-9]\s*[zZ]|:[0-9]{2}(\.[0-9]*)?\s*[+-][0-9]{1,2}(:?[0-9]{2}){0,2}|[A-Za-z][A-Za-z0-9_/+-]*)\s*$"
)


def timestamp_sql(text: str) -> str:
    """SQL reading a text time: an instant when it states its zone (ZONED_TIMESTAMP), else local time in $tz."""
    return (
        f"case when regexp_matches({text}, '{ZONED_TIMESTAMP}') then try_cast({text} as timestamptz) "
        f"else timezone($tz, try_cast({text} as timestamp)) end"
    )


# A date whose day and month date_order tells apart (02/01/1990, 2-1-1990); RE2 and Python read it alike.
DAY_MONTH = "[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}"


def date_sql(text: str, date_order: str = "reject") -> str:
    """SQL reading a text date: ISO dates and date-times, 1990/1/2, 1990.1.2, 19900102, 1990年1月2日, 02.01.1990
    (dotted: day first), and 02/01/1990 or 02-01-1990 by date_order: 'dmy', 'mdy', or 'reject' (read only when
    unambiguous: 25/12/1990, 12/25/1990). Two-digit years are not read. The text layouts of dedupe's
    normalize_birth_date, read alike (tested), but not in full-width digits."""
    year_first = "[0-9]{4}[/.年]?[0-9]{1,2}[/.月]?[0-9]{1,2}日?|[0-9]{1,2}[.][0-9]{1,2}[.][0-9]{4}"
    layouts = "['%Y/%m/%d', '%Y.%m.%d', '%Y%m%d', '%Y年%m月%d日', '%d.%m.%Y']"
    slashed = f"replace({text}, '-', '/')"
    dmy = f"cast(try_strptime({slashed}, '%d/%m/%Y') as date)"
    mdy = f"cast(try_strptime({slashed}, '%m/%d/%Y') as date)"
    pick = {
        "dmy": f"coalesce({dmy}, {mdy})",
        "mdy": f"coalesce({mdy}, {dmy})",
        "reject": f"case when {dmy} is null then {mdy} when {mdy} is null then {dmy} end",
    }[date_order]
    return (
        f"coalesce(try_cast({text} as date), cast(try_cast({text} as timestamp) as date), "
        f"case when regexp_full_match({text}, '{year_first}') then cast(try_strptime({text}, {layouts}) as date) end, "
        f"case when regexp_full_match({text}, '{DAY_MONTH}') then {pick} end)"
    )

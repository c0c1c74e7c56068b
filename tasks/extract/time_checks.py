"""The checks of a staged time or date: finite; a time not in the future; a fact's time not a placeholder."""

# A fact's time before this is a placeholder or a typo (0001-01-01, 1900-01-01), not customer activity.
EARLIEST_TIME = "1900-01-02 00:00:00+00"


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
        f"case when isfinite({value}) and {value} > $future_limit "
        f"then 'field {field}: ' || cast({value} as varchar) || ' is in the future' end"
    )
    return reasons

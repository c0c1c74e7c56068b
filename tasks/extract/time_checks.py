"""The checks of a staged time or date: finite, not a placeholder from before 1900, not in the future."""

# Timestamps before this are placeholders or typos (0001-01-01, 1900-01-01), not customer activity: quarantined.
EARLIEST_TIME = "1900-01-02 00:00:00+00"


def time_reasons(field: str, value: str, quoted: str, sql_type: str) -> list[str]:
    """SQL expressions, each null when the value passes, else the reason. value: the typed column; quoted: an
    open literal quoting the row's text ("'field ts: ''…'' is"); sql_type: timestamptz or date. $future_limit
    is bound by the caller (now plus FUTURE_TOLERANCE)."""
    what = "timestamp" if sql_type == "timestamptz" else "date"
    reasons = [f"case when not isfinite({value}) then {quoted} not a finite {what}' end"]
    if sql_type == "timestamptz":
        reasons.append(
            f"case when isfinite({value}) and {value} < timestamptz '{EARLIEST_TIME}' "
            f"then 'field {field}: ' || cast({value} as varchar) || ' is before 1900-01-02 (a placeholder?)' end"
        )
    # a date is in the future from the day after the limit's (in the session's time zone, the pipeline's)
    limit = "$future_limit" if sql_type == "timestamptz" else "cast($future_limit as date)"
    reasons.append(
        f"case when isfinite({value}) and {value} > {limit} "
        f"then 'field {field}: ' || cast({value} as varchar) || ' is in the future' end"
    )
    return reasons

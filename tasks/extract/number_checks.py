"""Checks of a staged number (staging quarantines a row that fails one, with the reason): finite and within
±NUMBER_LIMIT, and an event's duration_s within 0 and MAX_DURATION_S."""

from tasks.shared.contracts import MAX_DURATION_S, NUMBER_LIMIT


def number_reasons(kind: str, field: str, value: str, quoted: str) -> list[str]:
    """SQL expressions, each null when the value passes, else the reason. value: the typed (double) column;
    quoted: an open literal quoting the row's text ("'field duration_s: ''…'' is")."""
    limit = f"case when isfinite({value}) then 'out of range (beyond ±{NUMBER_LIMIT:g})' else 'not a finite number' end"
    reasons = [f"case when not (abs({value}) <= {NUMBER_LIMIT:g}) then {quoted} ' || {limit} end"]
    if kind == "events" and field == "duration_s":
        reasons.append(
            f"case when not (abs({value}) <= {NUMBER_LIMIT:g}) then null "  # said above
            f"when {value} < 0 then {quoted} negative: a duration is at least 0' "
            f"when {value} > {MAX_DURATION_S} then {quoted} more than 31 days (a stuck session, or milliseconds "
            "read as seconds?)' end"
        )
    return reasons

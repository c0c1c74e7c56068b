"""Checks of a row's ids (staging quarantines a row that fails one, with the reason).

An id with a control character in it (a NUL byte, a tab, a line break a broken export left inside a cell) is
never one a person typed: staged as it is, it would be another id, a payment moved from its customer to a
customer nobody is.
"""

from tasks.shared.config import SourceConfig
from tasks.shared.contracts import ID_FIELDS

CONTROL = "[[:cntrl:]]"  # C0 controls and DEL (RE2's class)


def control_character_reasons(source: SourceConfig) -> list[str]:
    """SQL per id field the source maps (its own id, and the customer it points at): null when the row's value
    has no control character, else the reason, the value's first 60 characters shown with each one as U+FFFD."""
    reasons = []
    for field in (ID_FIELDS[source.kind], "customer_ref"):
        if field not in source.columns:
            continue
        value = f'cast("{field}" as varchar)'
        # the first 60 characters: a cell of merged lines is long
        shown = f"regexp_replace(left({value}, 60), '{CONTROL}', '\ufffd', 'g')"
        code = f"lpad(upper(hex(unicode(regexp_extract({value}, '{CONTROL}')))), 4, '0')"
        reasons.append(
            f"case when regexp_matches({value}, '{CONTROL}') then 'field {field}: ''' || {shown} || ''' holds a "
            f"control character (U+' || {code} || '): an id is never typed with one' end"
        )
    return reasons

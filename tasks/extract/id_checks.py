"""Checks of a row's ids (staging quarantines a row that fails one, with the reason).

An id with a control character in it (a NUL byte, a tab, a line break a broken export left inside a cell) is
never one a person typed: staged as it is, it would be another id, a payment moved from its customer to a
customer nobody is. So is an id with an invisible (format) character: a zero-width space pasted from a web page,
a byte order mark left in the middle of concatenated exports (`\ufeffT1` is another payment than `T1`, so a
repeated row would count twice), a word joiner, a soft hyphen.
"""

from tasks.shared.config import SourceConfig
from tasks.shared.contracts import ID_FIELDS, PLACEHOLDER_TEXT

CONTROL = "\\p{Cc}"  # control characters: C0, DEL and C1 (U+0080–U+009F)
INVISIBLE = "\\p{Cf}"  # Unicode's format characters: U+200B zero-width space, U+FEFF, U+2060, U+00AD …
# What the ids' character rule is (tasks.extract.load_state hashes it: a change restages)
ID_CHARACTERS = "ids without control or invisible characters: 2"
# What the staged customer_ref's placeholders rule is (tasks.extract.load_state hashes it: a change restages)
REF_PLACEHOLDERS = "placeholders are no reference: 1"


def customer_ref_sql(text: str) -> str:
    """SQL for a customer_ref as staged from its text: null when it is a placeholder, any case ('NULL' as a SQL
    client exports a null, '0' of a guest, '-', '未知'), which names nobody: the row is then another key's, or
    unattributed, never one customer of every row that says it."""
    listed = ", ".join("'" + value.replace("'", "''") + "'" for value in sorted(PLACEHOLDER_TEXT))
    return f"case when lower({text}) in ({listed}) then null else {text} end"


def control_character_reasons(source: SourceConfig) -> list[str]:
    """SQL per id field the source maps (its own id, and the customer it points at): null when the row's value
    has no control or invisible character, else the reason naming the first one, the value's first 60
    characters shown with each such character as U+FFFD. One pattern is tested per row; which kind the
    character is, only on a row that has one."""
    either = f"[{CONTROL}{INVISIBLE}]"  # [\p{Cc}\p{Cf}]
    reasons = []
    for field in (ID_FIELDS[source.kind], "customer_ref"):
        if field not in source.columns:
            continue
        value = f'cast("{field}" as varchar)'
        first = f"regexp_extract({value}, '{either}')"
        # the first 60 characters: a cell of merged lines is long
        shown = f"regexp_replace(left({value}, 60), '{either}', '\ufffd', 'g')"
        code = f"printf('%04X', unicode({first}))"
        kind = f"case when regexp_matches({first}, '{CONTROL}') then 'a control' else 'an invisible' end"
        reasons.append(
            f"case when regexp_matches({value}, '{either}') then 'field {field}: ''' || {shown} || ''' holds ' "
            f"|| {kind} || ' character (U+' || {code} || '): an id is never typed with one' end"
        )
    return reasons

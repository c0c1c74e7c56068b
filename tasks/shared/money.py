"""Amounts as source systems write them, read exactly: SQL fragments for the staging check.

`¥1,234.50`, `1,234.50元`, `RMB 1234.5`, `US$12`, full-width `１２３４．５`: the number is read as
written, its mark recorded as a currency code (contracts.CURRENCY_MARKS). Nothing is rounded: an
amount with more decimals than the source's amount_scale, or more than contracts.AMOUNT_DIGITS digits
before the point, does not read (its row is quarantined with the reason). Thousands separators must
group by three (`1,234`; `12,5` is not read as 125), and `1_000`, `(5)`, `NaN` and `Inf` are not amounts.

A DOUBLE (arithmetic over text columns such as `Quantity * UnitPrice`, a float column) carries binary
noise (6 * 2.55 is 15.299999999999999): it reads as the nearest value with amount_scale decimals when it
is that value up to the noise (AMOUNT_NOISE, relative), and otherwise has too many decimals.
"""

import re

from tasks.shared.contracts import AMOUNT_DIGITS, CURRENCY_MARKS, amount_type

# Full-width digits and signs (１２３４．５０), the minus sign and the spaces written inside amounts.
FULL_WIDTH = "０１２３４５６７８９．，－＋−＄\u3000\u00a0"
HALF_WIDTH = "0123456789.,-+-$  "
# Relative difference up to which a DOUBLE equals the value with amount_scale decimals nearest to it
# (a double holds about 16 significant digits: a few operations on it stay far below this).
AMOUNT_NOISE = 1e-14
# The groups of AMOUNT_PATTERN, in order: a sign before or after a leading mark, the integer digits
# (thousands separators allowed when they group by three), the decimals, an exponent, a trailing mark.
# A number without marks, separators or exponent, with at most 18 decimals: read by casts (its parts
# are not extracted).
PLAIN_NUMBER = "[-+]?[0-9]*[.]?[0-9]{0,18}"
AMOUNT_GROUPS = ("matched", "sign1", "mark1", "sign2", "digits", "decimals", "exponent", "mark2")


def _literal(text: str) -> str:
    """text as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _marks() -> str:
    """A regular-expression alternation of the currency marks, longest first, then any three-letter code."""
    marks = sorted(CURRENCY_MARKS, key=lambda mark: (-len(mark), mark))
    return "|".join([*(re.escape(mark) for mark in marks), "[A-Z]{3}"])


def amount_pattern() -> str:
    """The regular expression (RE2) of an amount after normalize_sql: sign, marks, digits, decimals, exponent."""
    marks = _marks()
    return (
        f"^(([-+]?)({marks})?([-+]?)([0-9]{{1,3}}(?:,[0-9]{{3}})+|[0-9]*)"
        f"(?:\\.([0-9]*))?(?:E([-+]?[0-9]+))?({marks})?)$"
    )


def normalize_sql(text: str) -> str:
    """SQL for an amount's text with full-width characters made ASCII, letters upper case and spaces removed.

    A space between two digits (`12 34`) is not removed but made a character no amount has: such a
    text is no amount (a space is no thousands separator here).
    """
    ascii_text = f"translate({text}, {_literal(FULL_WIDTH)}, {_literal(HALF_WIDTH)})"
    kept = f"regexp_replace({ascii_text}, '([0-9])\\s+([0-9])', '\\1#\\2', 'g')"
    return f"upper(regexp_replace({kept}, '\\s', '', 'g'))"


def parts_sql(text: str) -> str:
    """SQL for the parts of an amount's text: a struct of AMOUNT_GROUPS (`matched` '' when it is no amount).

    text: SQL for the text. Null for a plain number (12.50, -3) too: most amounts are, and they are
    read by casts (see _plain), several times faster than normalizing and matching them.
    """
    names = ", ".join(_literal(name) for name in AMOUNT_GROUPS)
    written = f"regexp_extract({normalize_sql(text)}, {_literal(amount_pattern())}, [{names}])"
    return f"case when not regexp_full_match({text}, {_literal(PLAIN_NUMBER)}) then {written} end"


def _marks_map() -> str:
    """A SQL map literal from each currency mark to its ISO code."""
    return "MAP {" + ", ".join(f"{_literal(m)}: {_literal(code)}" for m, code in CURRENCY_MARKS.items()) + "}"


def _mark_code(mark: str) -> str:
    """SQL for the code of a mark AMOUNT_PATTERN matched (a known mark or a code; '' is none: null)."""
    return f"coalesce({_marks_map()}[{mark}], nullif({mark}, ''))"


def currency_code_sql(text: str) -> str:
    """SQL for the ISO code a currency text stands for: a mark or a three-letter code (null: neither).

    text: SQL for the text, upper case without spaces (as normalize_sql leaves it), a column: it is
    evaluated up to three times.
    """
    return (
        f"coalesce({_marks_map()}[{text}], case when regexp_full_match({text}, '[A-Z]{{3}}') then {text} end)"
    )


def mark_currency_sql(parts: str) -> str:
    """SQL for the currency the marks of an amount name (null: none, or two that disagree)."""
    first, second = _mark_code(f"{parts}.mark1"), _mark_code(f"{parts}.mark2")
    return (
        f"case when {parts}.mark1 = '' then {second} "
        f"when {parts}.mark2 = '' or {first} = {second} then {first} end"
    )


def _readable(parts: str) -> str:
    """SQL: the parts are an amount (the pattern matched, one sign at most, a digit, marks that agree)."""
    first, second = _mark_code(f"{parts}.mark1"), _mark_code(f"{parts}.mark2")
    return (
        f"({parts}.matched <> '' and ({parts}.sign1 = '' or {parts}.sign2 = '') "
        f"and ({parts}.digits <> '' or {parts}.decimals <> '') "
        f"and ({parts}.mark1 = '' or {parts}.mark2 = '' or {first} = {second}))"
    )


def _digits(parts: str) -> str:
    """SQL for the integer digits of the parts without separators."""
    return f"replace({parts}.digits, ',', '')"


def _double(parts: str) -> str:
    """SQL for an amount written with an exponent (1E3), as a DOUBLE."""
    return (
        f"try_cast(concat({parts}.sign1, {parts}.sign2, {_digits(parts)}, '.', {parts}.decimals, "
        f"'e', {parts}.exponent) as double)"
    )


def double_value_sql(value: str, scale: int) -> str:
    """SQL for a DOUBLE amount as decimal with scale decimals; null when not finite, too large or too precise."""
    limit = f"1e{AMOUNT_DIGITS}"
    return (
        f"case when isfinite({value}) and abs({value}) < {limit} "
        f"and abs({value} - round({value}, {scale})) <= abs({value}) * {AMOUNT_NOISE} "
        f"then cast(round({value}, {scale}) as {amount_type(scale)}) end"
    )


def double_too_precise_sql(value: str, scale: int) -> str:
    """SQL: a finite DOUBLE amount in range that has more than scale decimals (beyond the noise)."""
    return (
        f"(isfinite({value}) and abs({value}) < 1e{AMOUNT_DIGITS} "
        f"and abs({value} - round({value}, {scale})) > abs({value}) * {AMOUNT_NOISE})"
    )


def _plain(text: str, scale: int) -> tuple[str, str]:
    """SQL for (the value, too many decimals) of a plain number: exact when its cast to scale decimals is.

    A cast rounds: the value is kept only when it equals the cast to 18 decimals (trailing zeros are no
    decimals; a plain number has at most 18, PLAIN_NUMBER).
    """
    exact = f"try_cast({text} as decimal(38,18))"
    scaled = f"try_cast({text} as {amount_type(scale)})"
    return f"case when {exact} = {scaled} then {scaled} end", f"coalesce({exact} <> {scaled}, false)"


def text_value_sql(parts: str, text: str, scale: int) -> str:
    """SQL for the amount a text spells (parts: parts_sql of it), as decimal with scale decimals; null: none."""
    kept = f"rtrim({parts}.decimals, '0')"
    written = (
        f"case when length(ltrim({_digits(parts)}, '0')) <= {AMOUNT_DIGITS} and length({kept}) <= {scale} "
        f"then try_cast(concat({parts}.sign1, {parts}.sign2, coalesce(nullif({_digits(parts)}, ''), '0'), "
        f"'.', coalesce(nullif({kept}, ''), '0')) as {amount_type(scale)}) end"
    )
    return (
        f"case when {parts} is null then {_plain(text, scale)[0]} "
        f"when {_readable(parts)} then case when {parts}.exponent = '' then {written} "
        f"else {double_value_sql(_double(parts), scale)} end end"
    )


def text_too_precise_sql(parts: str, text: str, scale: int) -> str:
    """SQL: the text (parts: parts_sql of it) spells an amount that has more than scale decimals."""
    return (
        f"case when {parts} is null then {_plain(text, scale)[1]} "
        f"else coalesce({_readable(parts)} and case when {parts}.exponent = '' "
        f"then length(rtrim({parts}.decimals, '0')) > {scale} "
        f"else {double_too_precise_sql(_double(parts), scale)} end, false) end"
    )


def read_sql(parts: str | None, value: str, text: str, scale: int) -> dict[str, str]:
    """SQL for what staging reads of an amount, by column (sql/staging/checked.sql computes them once).

    `_amount_value`: decimal with scale decimals, null when it does not read; `_amount_too_precise`: it
    has more decimals; `_amount_mark`: the currency its marks name. parts: SQL for the parts of its text
    (parts_sql), or None when value (SQL) is a DOUBLE; text: SQL for the amount as text.
    """
    if parts is None:
        return {
            "_amount_value": double_value_sql(value, scale),
            "_amount_too_precise": f"coalesce({double_too_precise_sql(value, scale)}, false)",
            "_amount_mark": "null::varchar",
        }
    return {
        "_amount_value": text_value_sql(parts, text, scale),
        "_amount_too_precise": text_too_precise_sql(parts, text, scale),
        "_amount_mark": mark_currency_sql(parts),
    }


def amount_reason_sql(text: str, too_precise: str, amount: str, scale: int, shown: str | None = None) -> str:
    """SQL for why an amount is not staged (null when it is): too many decimals, or no amount at all.

    text: SQL for the amount as written (quoted in the reason unless shown is given); too_precise, amount:
    its `_amount_too_precise` (read_sql) and typed value; shown: SQL for the text to quote instead (a
    DOUBLE's significant digits, double_shown_sql).
    """
    quoted = f"'field amount: ''' || left({shown or text}, 60) || '''"
    return (
        f"case when {too_precise} then {quoted} has more decimals than amount_scale {scale}' "
        f"when {text} is not null and {amount} is null then {quoted} is not a valid {amount_type(scale)}' end"
    )


def double_shown_sql(value: str) -> str:
    """SQL for a DOUBLE as a reason quotes it: 15 significant digits, the decimal precision of a double, so
    that 24 * 0.333 reads 7.992, not its binary noise 7.992000000000001."""
    return f"printf('%.15g', {value})"


def currency_sql(mapped: str | None, code: str | None, mark: str) -> str:
    """SQL for a transaction's currency code: the one mapped (a code or mark), else the mark of its amount.

    mapped: SQL for the mapped currency's text and code for it normalized (normalize_sql, a column),
    None when no currency is mapped; mark: the amount's `_amount_mark` (read_sql). Null when neither
    says one, or the mapped text is no currency.
    """
    if mapped is None or code is None:
        return mark
    return f"case when {mapped} is null then {mark} else {currency_code_sql(code)} end"


def currency_reasons_sql(mapped: str, mark: str, text: str, currency: str) -> list[str]:
    """SQL for why a mapped currency is refused: it is no currency, or the amount's mark names another.

    mark: the amount's `_amount_mark` (read_sql); text: SQL for the amount as written; currency: the
    typed currency.
    """
    quoted = f"'field currency: ''' || left({mapped}, 60) || '''"
    return [
        f"case when {mapped} is not null and {currency} is null "
        f"then {quoted} is not a currency (a code such as CNY or USD, or ¥, 元, RMB, $)' end",
        # only an amount that has digits has a currency: 'abc' is no amount, not an amount in ABC
        f"case when {mark} <> {currency} and regexp_matches({text}, '[0-9０-９]') "
        f"then {quoted} but amount ''' || left({text}, 60) || ''' is in ' || {mark} end",
    ]

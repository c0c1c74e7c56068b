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
AMOUNT_GROUPS = ("all", "sign1", "mark1", "sign2", "digits", "decimals", "exponent", "mark2")


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
    """SQL for the parts of an amount's text (a struct of AMOUNT_GROUPS; `all` is '' when it is no amount)."""
    names = ", ".join(_literal(name) for name in AMOUNT_GROUPS)
    return f"regexp_extract({normalize_sql(text)}, {_literal(amount_pattern())}, [{names}])"


def currency_code_sql(mark: str) -> str:
    """SQL for the ISO code a currency mark or code stands for (null when it stands for none).

    mark: SQL for the mark, upper case without spaces (as normalize_sql leaves it).
    """
    cases = " ".join(f"when {_literal(m)} then {_literal(code)}" for m, code in CURRENCY_MARKS.items())
    return f"case {mark} {cases} else case when regexp_full_match({mark}, '[A-Z]{{3}}') then {mark} end end"


def mark_currency_sql(parts: str) -> str:
    """SQL for the currency the marks of an amount name (null: none, or two that disagree)."""
    first = currency_code_sql(f"nullif({parts}.mark1, '')")
    second = currency_code_sql(f"nullif({parts}.mark2, '')")
    return f"case when {parts}.mark1 = '' or {parts}.mark2 = '' or {first} = {second} then coalesce({first}, {second}) end"


def _readable(parts: str) -> str:
    """SQL: the parts are an amount (the pattern matched, one sign at most, a digit, marks that agree)."""
    return (
        f"({parts}.all <> '' and ({parts}.sign1 = '' or {parts}.sign2 = '') "
        f"and ({parts}.digits <> '' or {parts}.decimals <> '') "
        f"and ({parts}.mark1 = '' or {parts}.mark2 = '' or {mark_currency_sql(parts)} is not null))"
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


def text_value_sql(parts: str, scale: int) -> str:
    """SQL for the amount the parts of a text spell, as decimal with scale decimals (null: no amount of that scale)."""
    kept = f"rtrim({parts}.decimals, '0')"
    plain = (
        f"case when length(ltrim({_digits(parts)}, '0')) <= {AMOUNT_DIGITS} and length({kept}) <= {scale} "
        f"then try_cast(concat({parts}.sign1, {parts}.sign2, coalesce(nullif({_digits(parts)}, ''), '0'), "
        f"'.', coalesce(nullif({kept}, ''), '0')) as {amount_type(scale)}) end"
    )
    return (
        f"case when {_readable(parts)} then case when {parts}.exponent = '' then {plain} "
        f"else {double_value_sql(_double(parts), scale)} end end"
    )


def text_too_precise_sql(parts: str, scale: int) -> str:
    """SQL: the parts spell an amount that has more than scale decimals."""
    return (
        f"coalesce({_readable(parts)} and case when {parts}.exponent = '' "
        f"then length(rtrim({parts}.decimals, '0')) > {scale} "
        f"else {double_too_precise_sql(_double(parts), scale)} end, false)"
    )


def amount_sql(parts: str | None, value: str, scale: int) -> str:
    """SQL for an amount as decimal with scale decimals, null when it does not read.

    parts: SQL for the parts of its text (parts_sql), or None when value (SQL) is a DOUBLE.
    """
    return double_value_sql(value, scale) if parts is None else text_value_sql(parts, scale)


def amount_reason_sql(parts: str | None, value: str, text: str, amount: str, scale: int) -> str:
    """SQL for why an amount is not staged (null when it is): too many decimals, or no amount at all.

    text: SQL for the amount as written (quoted in the reason); amount: SQL for the typed amount.
    """
    too_precise = (
        double_too_precise_sql(value, scale) if parts is None else text_too_precise_sql(parts, scale)
    )
    quoted = f"'field amount: ''' || left({text}, 60) || '''"
    return (
        f"case when {too_precise} then {quoted} has more decimals than amount_scale {scale}' "
        f"when {text} is not null and {amount} is null then {quoted} is not a valid {amount_type(scale)}' end"
    )


def currency_sql(mapped: str | None, parts: str | None) -> str:
    """SQL for a transaction's currency code: the one mapped (a code or mark), else the mark of its amount.

    mapped: SQL for the mapped currency's text (None: not mapped); parts: of the amount's text (None:
    no text amount). Null when neither says one, or the mapped text is no currency.
    """
    marked = "null::varchar" if parts is None else mark_currency_sql(parts)
    if mapped is None:
        return marked
    return f"case when {mapped} is null then {marked} else {currency_code_sql(normalize_sql(mapped))} end"


def currency_reasons_sql(mapped: str, parts: str | None, text: str, currency: str) -> list[str]:
    """SQL for why a mapped currency is refused: it is no currency, or the amount's mark names another.

    text: SQL for the amount as written; currency: SQL for the typed currency.
    """
    quoted = f"'field currency: ''' || left({mapped}, 60) || '''"
    reasons = [
        f"case when {mapped} is not null and {currency} is null "
        f"then {quoted} is not a currency (a code such as CNY or USD, or ¥, 元, RMB, $)' end"
    ]
    if parts is not None:
        marked = mark_currency_sql(parts)
        reasons.append(
            f"case when {marked} <> {currency} "
            f"then {quoted} but amount ''' || left({text}, 60) || ''' is in ' || {marked} end"
        )
    return reasons

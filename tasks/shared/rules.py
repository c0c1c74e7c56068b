"""Rule segments: a small expression language over feature names, compiled to SQL with bound values.

    rule      := or
    or        := and ("or" and)*
    and       := not ("and" not)*
    not       := "not" not | "(" rule ")" | test
    test      := FEATURE op VALUE
               | FEATURE ["not"] "between" VALUE "and" VALUE
               | FEATURE ["not"] "in" "(" VALUE ("," VALUE)* ")"
               | FEATURE "is" ["not"] "null"
    op        := "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    VALUE     := number | 'text' | "text" | true | false

Keywords are case-insensitive. A FEATURE must be one of the known columns; values become bound
parameters. Nothing from a rule reaches SQL as text except allowlisted, quoted column names.
"""

import re
from dataclasses import dataclass, field

# What a rule may test: the per-customer features, the scheme columns computed before rules and the
# predictions (risk_tier is 'high', 'medium' or 'low'; expected_purchases and predicted_value cover the
# predict horizon).
RULE_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "first_purchase_date",
    "last_purchase_date",
    "payments_30d",
    "payments_90d",
    "payments_180d",
    "sessions_30d",
    "sessions_90d",
    "sessions_180d",
    "sessions_total",
    "last_session_date",
    "session_minutes_90d",
    "favourite_game",
    "engagements_total",
    "last_active_date",
    "avg_feedback_score",
    "feedback_count",
    "first_seen_date",
    "marketing_consent",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "rfm_cn_class",
    "value_tier",
    "lifecycle_stage",
    "churn_risk",
    "risk_tier",
    "p_alive",
    "expected_purchases",
    "predicted_value",
)

TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<string>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")"
    r"|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
KEYWORDS = {"and", "or", "not", "between", "in", "is", "null", "true", "false"}


class RuleError(ValueError):
    """A rule that is not a valid expression, with the position of the problem."""


@dataclass
class Compiled:
    """A rule compiled to a SQL condition with its bound values."""

    sql: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass
class _Token:
    kind: str
    text: str
    position: int


def tokenize(rule: str) -> list[_Token]:
    """The tokens of a rule; a RuleError at the first character that starts no token."""
    tokens, position = [], 0
    while position < len(rule):
        if rule[position:].strip() == "":
            break
        match = TOKEN.match(rule, position)
        if not match or match.end() == position:
            at = len(rule) - len(rule[position:].lstrip())
            raise RuleError(f"unexpected character {rule[at]!r} at position {at + 1}")
        kind = match.lastgroup
        text = match.group(kind)
        start = match.start(kind)
        if kind == "word" and text.lower() in KEYWORDS:
            kind, text = "keyword", text.lower()
        tokens.append(_Token(kind, text, start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, rule: str, features: tuple[str, ...], prefix: str) -> None:
        self.rule = rule
        self.tokens = tokenize(rule)
        self.features = features
        self.prefix = prefix
        self.index = 0
        self.params: dict[str, object] = {}

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, expected: str) -> RuleError:
        token = self.peek()
        found = f"{token.text!r} at position {token.position + 1}" if token else "the end of the rule"
        return RuleError(f"expected {expected}, found {found}")

    def accept(self, kind: str, text: str | None = None) -> _Token | None:
        token = self.peek()
        if token and token.kind == kind and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, kind: str, text: str | None = None, what: str | None = None) -> _Token:
        token = self.accept(kind, text)
        if token is None:
            raise self.fail(what or repr(text or kind))
        return token

    def parse(self) -> str:
        if not self.tokens:
            raise RuleError("empty rule")
        sql = self.parse_or()
        if self.peek() is not None:
            raise self.fail("'and', 'or' or the end of the rule")
        return sql

    def parse_or(self) -> str:
        parts = [self.parse_and()]
        while self.accept("keyword", "or"):
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def parse_and(self) -> str:
        parts = [self.parse_not()]
        while self.accept("keyword", "and"):
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else "(" + " and ".join(parts) + ")"

    def parse_not(self) -> str:
        if self.accept("keyword", "not"):
            return f"(not {self.parse_not()})"
        if self.accept("punct", "("):
            inner = self.parse_or()
            self.expect("punct", ")", "')'")
            return f"({inner})"
        return self.parse_test()

    def value(self) -> str:
        token = self.peek()
        if token is None or not (
            token.kind in ("number", "string")
            or (token.kind == "keyword" and token.text in ("true", "false"))
        ):
            raise self.fail("a value (a number, 'text', true or false)")
        self.index += 1
        if token.kind == "number":
            value: object = float(token.text) if "." in token.text else int(token.text)
        elif token.kind == "string":
            quote = token.text[0]
            value = token.text[1:-1].replace(quote * 2, quote)
        else:
            value = token.text == "true"
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def parse_test(self) -> str:
        token = self.peek()
        if token is None or token.kind != "word":
            raise self.fail("a feature name or '('")
        if token.text not in self.features:
            raise RuleError(
                f"unknown feature {token.text!r} at position {token.position + 1}; "
                f"known features: {', '.join(self.features)}"
            )
        self.index += 1
        column = f'"{token.text}"'
        if self.accept("keyword", "is"):
            negated = self.accept("keyword", "not") is not None
            self.expect("keyword", "null", "'null'")
            return f"({column} is {'not ' if negated else ''}null)"
        negated = self.accept("keyword", "not") is not None
        if self.accept("keyword", "between"):
            low = self.value()
            self.expect("keyword", "and", "'and' of between")
            high = self.value()
            return f"({column} {'not ' if negated else ''}between {low} and {high})"
        if self.accept("keyword", "in"):
            self.expect("punct", "(", "'(' after in")
            values = [self.value()]
            while self.accept("punct", ","):
                values.append(self.value())
            self.expect("punct", ")", "')' or ','")
            return f"({column} {'not ' if negated else ''}in ({', '.join(values)}))"
        if negated:
            raise self.fail("'between' or 'in' after 'not'")
        operator = self.accept("op")
        if operator is None:
            raise self.fail("a comparison (=, !=, <, <=, >, >=), between, in or is")
        sql_operator = "<>" if operator.text == "!=" else operator.text
        return f"({column} {sql_operator} {self.value()})"


def compile_rule(rule: str, features: tuple[str, ...] = RULE_FEATURES, prefix: str = "v") -> Compiled:
    """Compile a rule to a SQL condition over quoted feature columns with named parameters prefix0, prefix1 …"""
    parser = _Parser(rule, features, prefix)
    sql = parser.parse()
    return Compiled(sql, parser.params)

"""Mapping expressions: one scalar DuckDB SQL expression each, checked by DuckDB's parser."""

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from tasks.shared.scratch import scratch


@lru_cache(maxsize=1024)
def serialize_expression(expression: str) -> str:
    """DuckDB's parse tree (JSON) of `select <expression>`, parsed once per distinct expression."""
    with scratch() as con:
        return con.execute("select json_serialize_sql(?)", [f"select {expression}\n"]).fetchall()[0][0]


def check_expression(expression: str) -> str | None:
    """None if expression is one scalar SQL expression, else what is wrong with it.

    Mapping expressions are SQL by design (they adapt a source without code), so they are
    parsed by DuckDB and must be a single expression without subqueries or table access.
    """
    if not expression.strip():
        return "empty expression"
    parsed = serialize_expression(expression)
    tree = json.loads(parsed)
    if tree.get("error"):
        return f"not a valid SQL expression: {expression!r} ({tree.get('error_message')})"
    statements = tree["statements"]
    node = statements[0]["node"] if len(statements) == 1 else None
    if node is None or node.get("type") != "SELECT_NODE":
        return f"not a single expression: {expression!r}"
    if len(node["select_list"]) != 1 or node.get("from_table", {}).get("type") != "EMPTY":
        return f"not a single expression: {expression!r}"
    if node["select_list"][0].get("alias"):
        said = f"not a single expression (an alias or a second word?): {expression!r}"
        words = expression.split()
        if all(word.isidentifier() for word in words):  # `Customer ID`: a column name with a space, unquoted
            said += (
                f"; if it names a column with a space, quote the name in double quotes and the YAML value in "
                f"single quotes: '\"{' '.join(words)}\"'"
            )
        return said
    if any(key in parsed for key in ('"SUBQUERY"', '"TABLE_FUNCTION"', '"BASE_TABLE"')):
        return f"subqueries and table access are not allowed in a mapping: {expression!r}"
    return None


def expression_nodes(expression: str) -> Iterator[dict[str, Any]]:
    """Every node of an expression's parse tree (serialize_expression), each before the nodes under it."""
    stack: list[Any] = [json.loads(serialize_expression(expression))]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def expression_columns(expression: str) -> set[str]:
    """Top-level column names an expression reads (`user.member_id` reads `user`)."""
    return {
        node["column_names"][0]
        for node in expression_nodes(expression)
        if node.get("class") == "COLUMN_REF" and node.get("column_names")
    }


# Operators whose operands are numbers. A text column (CSV, Excel) read directly by one of them, or
# compared with a number literal, is read as a number: DuckDB does not convert text implicitly.
ARITHMETIC_OPERATORS = frozenset({"+", "-", "*", "/", "//", "%", "^", "**"})
NUMBER_LITERALS = frozenset({"INTEGER", "NUMERIC", "BIGINT", "HUGEINT", "DECIMAL", "DOUBLE"})
SELECT_PREFIX = len(b"select ")  # serialize_expression parses `select <expression>`: offsets are bytes


def _arguments(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The argument expressions of a function node (DuckDB 2.0 nests them under `arguments`)."""
    if "arguments" in node:
        return [argument["expression"] for argument in node["arguments"]]
    return list(node.get("children", []))


def _is_number(node: dict[str, Any]) -> bool:
    """Whether a node is a number literal, signed or not (DuckDB 2.0 states a literal's kind, 1.5 its type)."""
    if node.get("class") == "CONSTANT":
        kind = (
            node["literal"].get("kind")
            if "literal" in node
            else node.get("value", {}).get("type", {}).get("id")
        )
        return kind in NUMBER_LITERALS
    arguments = _arguments(node) if node.get("class") == "FUNCTION" else []
    return node.get("function_name") in ("-", "+") and len(arguments) == 1 and _is_number(arguments[0])


# A column name as written: quoted (a doubled quote inside), or a plain identifier (any letter, Han included).
IDENTIFIER = re.compile(r'"(?:[^"]|"")*"|[^\W\d]\w*')


def _identifier_length(text: bytes) -> int:
    """The bytes of the column name text starts with: DuckDB 2.0 states a reference's length, 1.5 does not."""
    found = IDENTIFIER.match(text.decode())
    if found is None:
        raise ValueError(f"no column name at the start of {text[:40]!r}")
    return len(found.group(0).encode())


def text_read_as_numbers(expression: str, text_columns: set[str]) -> list[str]:
    """The text columns (names as written) that text_as_numbers reads as numbers in expression."""
    return [text for text, _, _, _ in _numeric_uses(expression, text_columns)]


def _numeric_uses(expression: str, text_columns: set[str]) -> list[tuple[str, int, int, str]]:
    """(column as written, start byte, end byte, cast) of each text column used as a number in expression:
    `cast` where arithmetic reads it (a text that is no number fails its row), `try_cast` where it is
    compared with a number (a text that is no number is simply not equal: `Code = 1 or Code = 'A'`)."""
    text = {name.lower() for name in text_columns}
    source = expression.encode()
    uses: dict[int, tuple[str, int, int, str]] = {}

    def mark(node: dict[str, Any], cast: str = "cast") -> None:
        names = node.get("column_names") or []
        if node.get("class") == "COLUMN_REF" and len(names) == 1 and names[0].lower() in text:
            start = node["query_location"] - SELECT_PREFIX
            end = start + (node.get("query_location_length") or _identifier_length(source[start:]))
            uses[start] = (source[start:end].decode(), start, end, cast)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for value in node:
                walk(value)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("class")
        if (
            kind == "FUNCTION"
            and node.get("is_operator")
            and node.get("function_name") in ARITHMETIC_OPERATORS
        ):
            for argument in _arguments(node):
                mark(argument)
        elif kind == "COMPARISON" and (_is_number(node["left"]) or _is_number(node["right"])):
            mark(node["left"], "try_cast")
            mark(node["right"], "try_cast")
        elif kind == "BETWEEN" and (_is_number(node["lower"]) or _is_number(node["upper"])):
            mark(node["input"], "try_cast")
        for value in node.values():
            walk(value)

    walk(json.loads(serialize_expression(expression)))
    return [uses[start] for start in sorted(uses)]


def text_as_numbers(expression: str, text_columns: set[str]) -> str:
    """expression with each text column that arithmetic reads (cast), or that is compared with a number
    (try_cast), read as a DOUBLE.

    `Quantity * UnitPrice` over two CSV columns becomes `cast(Quantity as double) * cast(UnitPrice as
    double)`: the numbers DuckDB's CSV reader would detect. Every other use of a text column stays text
    (`InvoiceNo || '-' || StockCode`, an id keeps its leading zeros). Names match case-insensitively,
    as DuckDB binds them; the rest of the expression is kept exactly as written.
    """
    uses = _numeric_uses(expression, text_columns)
    if not uses:
        return expression
    source, parts, done = expression.encode(), [], 0
    for _, start, end, cast in uses:
        parts += [source[done:start], f"{cast}(".encode(), source[start:end], b" as double)"]
        done = end
    return b"".join([*parts, source[done:]]).decode()


@lru_cache(maxsize=1)
def volatile_functions() -> frozenset[str]:
    """Names of DuckDB's volatile functions (random, uuid …): DuckDB's TRY() refuses them."""
    with scratch() as con:
        rows = con.execute(
            "select distinct function_name from duckdb_functions() where stability = 'VOLATILE'"
        ).fetchall()
    return frozenset(name for (name,) in rows)


# Functions whose value is the load's, not the row's: the time it runs and its settings. DuckDB calls them stable
# (one value in a statement), but a restage, a rerun or tomorrow's load gives another.
LOAD_FUNCTIONS = frozenset(
    {
        "now",
        "today",
        "get_current_time",
        "get_current_timestamp",
        "transaction_timestamp",
        "current_localtime",
        "current_localtimestamp",
        "current_setting",
    }
)


# What DuckDB parses as a column reference and binds to the load's time when no column has the name
LOAD_KEYWORDS = frozenset(
    {"current_date", "current_time", "current_timestamp", "localtime", "localtimestamp"}
)


def called_functions(expression: str) -> list[str]:
    """The names of the functions expression calls (lower case, in order of appearance), the keywords of the
    load's time (current_date …, parsed as column references) among them."""
    names: list[str] = []
    for node in expression_nodes(expression):
        if node.get("class") == "FUNCTION":
            names.append(node.get("function_name", "").lower())
        elif node.get("class") == "COLUMN_REF":
            parts = node.get("column_names") or []
            if len(parts) == 1 and parts[0].lower() in LOAD_KEYWORDS:
                names.append(parts[0].lower())
    return names


def unrepeatable_functions(expression: str) -> list[str]:
    """The functions expression calls that give another value on another evaluation or load: volatile ones
    (random, uuid …) and the load's time and settings (LOAD_FUNCTIONS)."""
    volatile = volatile_functions() | LOAD_FUNCTIONS | LOAD_KEYWORDS
    return list(dict.fromkeys(name for name in called_functions(expression) if name in volatile))


def is_volatile(expression: str) -> bool:
    """Whether expression calls a volatile function (a new value on every evaluation)."""
    volatile = volatile_functions()
    return any(name in volatile for name in called_functions(expression))


def failed_sql(expression: str) -> str:
    """SQL true on a row where the expression fails (try() gives null) although a column it reads has a value:
    a date in another layout than its strptime expects, a text that is no number. False on rows without
    any input (nothing to read there)."""
    read = " or ".join(
        f'"{c.replace(chr(34), chr(34) * 2)}" is not null' for c in sorted(expression_columns(expression))
    )
    return f"(try({expression}\n) is null and ({read or 'false'}))"

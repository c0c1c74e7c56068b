"""Mapping expressions: one scalar DuckDB SQL expression each, checked by DuckDB's parser."""

import json
from functools import lru_cache
from typing import Any

import duckdb


@lru_cache(maxsize=1024)
def serialize_expression(expression: str) -> str:
    """DuckDB's parse tree (JSON) of `select <expression>`, parsed once per distinct expression."""
    with duckdb.connect() as con:
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
        return f"not a single expression (an alias or a second word?): {expression!r}"
    if any(key in parsed for key in ('"SUBQUERY"', '"TABLE_FUNCTION"', '"BASE_TABLE"')):
        return f"subqueries and table access are not allowed in a mapping: {expression!r}"
    return None


def expression_columns(expression: str) -> set[str]:
    """Top-level column names an expression reads (`user.member_id` reads `user`)."""
    parsed = serialize_expression(expression)
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class") == "COLUMN_REF" and node.get("column_names"):
                found.add(node["column_names"][0])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(parsed))
    return found

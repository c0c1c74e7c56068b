"""Unqualified column names in a SQL model, found with DuckDB's own parser (json_serialize_sql).

Inside a subquery an unqualified name binds to the nearest table that has the column: in
`delete from t where exists (select 1 from e where e.source = source)` both sides are e's, so the
predicate is always true. Erasure models name every column with its table (or CTE) alias.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb

PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
FILLED = (
    "filled_in_"  # a placeholder's stand-in: a name code fills in (an identifier or a generated fragment)
)
COMMENT = re.compile(r"^\s*--[^\n]*$", re.M)


def as_select(sql: str) -> str | None:
    """The statement as a select the parser serializes (a delete's or insert's query), or None for a definition."""
    text = COMMENT.sub("", PLACEHOLDER.sub(lambda m: FILLED + m.group(1), sql)).strip()
    if re.match(r"create\b", text, re.I):
        return None
    text = re.sub(r"^delete\s+from\b", "select 1 from", text, flags=re.I)
    return re.sub(r"^insert\s+into\s+\S+\s+", "", text, flags=re.I)


def column_refs(node: Any) -> list[list[str]]:
    """Every column reference (its name parts) in a serialized statement."""
    found = []
    if isinstance(node, dict):
        if node.get("class") == "COLUMN_REF":
            found.append(node["column_names"])
        for value in node.values():
            found += column_refs(value)
    elif isinstance(node, list):
        for value in node:
            found += column_refs(value)
    return found


def unqualified_columns(path: Path) -> list[str]:
    """The column names a model uses without a table alias (placeholders' stand-ins aside)."""
    select = as_select(path.read_text(encoding="utf-8"))
    if select is None:
        return []
    con = duckdb.connect()
    try:
        tree = json.loads(con.execute("select json_serialize_sql(?)", [select]).fetchall()[0][0])
    finally:
        con.close()
    if tree.get("error"):
        raise ValueError(f"{path}: DuckDB cannot parse it: {tree.get('error_message')}")
    return sorted(
        {
            ".".join(parts)
            for parts in column_refs(tree)
            if len(parts) == 1 and not parts[0].startswith(FILLED)
        }
    )

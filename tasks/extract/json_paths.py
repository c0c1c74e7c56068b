"""A mapping that reads a field of a JSON value (`user.member_id`) where some rows hold no object there.

A JSON Lines field that is an object in some files and text in others (an API that sends a customer's id, or the
customer expanded: Stripe's `customer`) is kept in raw as JSON (tasks.extract.raw widens it). `user.member_id`
is then null on the rows whose `user` is the text "M0000006": such a row loses its customer (it is staged
unattributed) or its value. Raw keeps what the row held; the load warns, naming how many rows, an example and
how to read both shapes.
"""

import logging

from tasks.extract.tables import raw_table, raw_types
from tasks.shared.config import SourceConfig
from tasks.shared.expressions import expression_nodes
from tasks.shared.warehouse import Warehouse, quote_identifier


def field_paths(expression: str) -> list[list[str]]:
    """The column references of an expression that read into a value (`user.member_id`: ['user', 'member_id'])."""
    return [
        node["column_names"]
        for node in expression_nodes(expression)
        if node.get("class") == "COLUMN_REF" and len(node.get("column_names") or []) > 1
    ]


def say_non_objects(
    wh: Warehouse, source: SourceConfig, files: list[str], logger: logging.Logger | logging.LoggerAdapter
) -> None:
    """Warn of the rows of files (those read this run) whose JSON column a mapping reads a field of is no object."""
    if not files:
        return
    types = {name.lower(): sql_type for name, sql_type in raw_types(wh, source).items()}
    for field, expression in source.columns.items():
        for path in field_paths(expression):
            if types.get(f"raw:{path[0].lower()}") != "JSON":
                continue
            column = quote_identifier(path[0])
            rows, (kind, example) = wh.rows(
                f"select count(*), coalesce(arg_min([json_type({column}), left(cast({column} as varchar), 60)], "
                f"[_file, cast(_row as varchar)]), [null, null]) from {raw_table(source)} "
                f"where _file in (select unnest(?::varchar[])) and {column} is not null "
                f"and json_type({column}) <> 'OBJECT'",
                [files],
            )[0]
            if rows:
                logger.warning(
                    "source %s: field %s: %s %s as %s, not an object (e.g. %s): %s is null on them; read both "
                    "shapes with coalesce(json_extract_string(%s, '$.%s'), json_extract_string(%s, '$'))",
                    *(
                        source.name,
                        field,
                        f"{rows:,} rows hold" if rows > 1 else "1 row holds",
                        path[0],
                        kind,
                        example,
                    ),
                    *(".".join(path), path[0], ".".join(path[1:]), path[0]),
                )

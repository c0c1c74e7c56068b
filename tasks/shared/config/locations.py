"""Where things are in a YAML config: the line of each key and list item, for errors a person can find."""

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str, ...]


def yaml_lines(text: str) -> tuple[dict[Path, int], list[tuple[int, Path, int]]]:
    """The 1-based line of each key and list item by its path (keys, list indexes as text), and repeated keys.

    A repeated key is (its line, its path, the line of its first occurrence): YAML readers keep the
    last value without a word, so a second `amount:` under the same mapping silently replaces the first.
    """
    lines: dict[Path, int] = {}
    repeated: list[tuple[int, Path, int]] = []

    def walk(node: Node | None, path: Path) -> None:
        if isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if not isinstance(key, ScalarNode):
                    continue
                name, line = str(key.value), key.start_mark.line + 1
                if name in seen:
                    repeated.append((line, (*path, name), seen[name]))
                seen[name] = line
                lines[(*path, name)] = line
                walk(value, (*path, name))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, str(index))] = item.start_mark.line + 1
                walk(item, (*path, str(index)))

    walk(yaml.compose(text, Loader=yaml.SafeLoader), ())
    return lines, repeated


def line_of(
    lines: dict[Path, int], location: tuple[Any, ...], message: str, raw: dict[str, Any]
) -> int | None:
    """The line of the deepest key of location that the file has; messages that name a place refine it.

    A source's check names its mapping (`columns.amount: ...`), a check of the whole config its source
    (`source 'shop': ...`): the line is then that mapping's or that source's.
    """
    path = tuple(str(part) for part in location)
    named = re.match(r"source '([a-z0-9_]+)': (\w+)", message)
    if not path and named:
        names = [s.get("name") if isinstance(s, dict) else None for s in raw.get("sources") or []]
        if named.group(1) in names:
            path = ("sources", str(names.index(named.group(1))), named.group(2))
            message = message.split(": ", 1)[1]
    column = re.match(r"columns(?:\.| \[')(\w+)", message)
    if column and len(path) == 2 and path[0] == "sources":
        path = (*path, "columns", column.group(1))
    elif len(path) == 2 and path[0] == "sources" and "must map" in message:
        path = (*path, "columns")
    elif len(path) == 2 and path[0] == "sources" and re.match(r"^\w+ ", message):
        path = (*path, message.split()[0])  # a check of one key names it first (customer_source is set ...)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def yaml_error(exc: yaml.YAMLError, text: str) -> str:
    """A YAML syntax error as `line L, column C: not valid YAML: <problem>`, with the line and a caret under the place."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context and context_mark is not None and (mark is None or context_mark.line != mark.line):
        problem += f" ({context} at line {context_mark.line + 1})"
    if mark is None:
        return f"not valid YAML: {problem}"
    source = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
    hint = ""
    if "mapping values are not allowed" in problem:
        hint = "; a value holding ': ' needs quotes, and a key's lines under it one indent"
    elif "found character '\\t'" in problem:
        hint = "; indent with spaces, not tabs"
    return (
        f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {problem}{hint}\n"
        f"    {source}\n    {' ' * mark.column}^"
    )

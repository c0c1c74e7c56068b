"""What `segments check` reports: a Problem, where it is and how to fix it, and the problems of files
(tasks.extract.preflight finds them)."""

import difflib
import glob
from dataclasses import dataclass
from pathlib import Path

from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.expressions import expression_columns


@dataclass(frozen=True)
class Problem:
    """Something that would make a run fail or go wrong, with where it is and how to fix it.

    source: where in the config: `sources.<name>`, `warehouse`, `exports`, `privacy.suppression_file`.
    file: the file (relative to the config's folder when inside it); row: its 1-based data row;
    field: the canonical field (or a column) concerned; message: what is wrong; fix: what to do.
    """

    source: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    message: str = ""
    fix: str | None = None
    warning: bool = False  # said by `segments check` and before a run, which it does not stop

    def __str__(self) -> str:
        """One line: `sources.shop: data/retail.csv row 7, field amount: <what> — <fix>`."""
        place = " ".join(part for part in (self.file, f"row {self.row}" if self.row else None) if part)
        where = ", ".join(part for part in (place, f"field {self.field}" if self.field else None) if part)
        text = f"{self.source}: {where}: {self.message}" if where else f"{self.source}: {self.message}"
        return f"{text} — {self.fix}" if self.fix else text


def no_files(pipeline: PipelineConfig, source: SourceConfig) -> Problem:
    """The problem of a glob that matches no file: what the folder it looks in holds instead."""
    pattern = pipeline.resolve(Path(source.path or ""))
    folder = pattern.parent
    while glob.has_magic(str(folder)):
        folder = folder.parent
    if not folder.is_dir():
        found = f"the folder {folder} does not exist"
    else:
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        found = f"the folder {folder} holds " + (
            ", ".join(names[:8]) + (" …" if len(names) > 8 else "") or "nothing"
        )
    close = difflib.get_close_matches(
        pattern.name, [p.name for p in folder.glob("*")] if folder.is_dir() else [], 1
    )
    fix = f"the path is a glob relative to the config's folder {pipeline.base_dir.resolve()}"
    if close:
        fix += f"; did you mean {str(Path(source.path or '').parent / close[0])!r}?"
    return Problem(f"sources.{source.name}", message=f"no files match {source.path} ({found})", fix=fix)


def missing_columns_problem(source: SourceConfig, file: str, missing: list[str], names: list[str]) -> Problem:
    """The problem of a file without columns the mappings read: what it has, and the nearest names."""
    lowered = {m.lower() for m in missing}
    expressions = {**source.columns, **({"where": source.where} if source.where else {})}
    fields = [f for f, e in expressions.items() if {c.lower() for c in expression_columns(e)} & lowered]
    near = {m: difflib.get_close_matches(m, names, 1, 0.6) for m in missing}
    hints = [f"{m!r} → {n[0]!r}" for m, n in near.items() if n]
    where_only = fields == ["where"]
    if hints:
        fix = f"rename in the {'where' if where_only else 'mapping'}: " + ", ".join(hints)
    elif where_only:
        fix = "a text value is written in single quotes ('Unspecified'); a column in double quotes"
    else:
        fix = "map a column it has"
    if len(names) == 1 and (separator := next((c for c in ",;\t|" if c in names[0]), None)):
        fix = f"the header reads as one column: set the delimiter, options: {{delim: {separator!r}}}"
    return Problem(
        f"sources.{source.name}",
        file,
        field=", ".join(fields) or None,
        message=f"no column {', '.join(map(repr, missing))} (its columns: {', '.join(map(repr, names))})",
        fix=fix,
    )


def read_fix(message: str, source: SourceConfig) -> str | None:
    """What to do about a file that does not read (None when its message says it already)."""
    if any(
        said in message.lower()
        for said in ("set the source's", "raise the source's", "mixed line breaks", "carriage return")
    ):
        return None
    if "cannot be read as" in message or "declared" in message or "nvalid unicode" in message.lower():
        return "set the source's encoding to the file's real one (utf-8, gbk, gb18030, big5 …)"
    if "empty" in message:
        return "remove the empty file or narrow the glob"
    if "may be truncated" in message:
        return "wait until the file is written completely, or move it out of the source's folder"
    if source.format == "csv" and str(source.options.get("delim", source.options.get("sep", ""))).isspace():
        return (
            "columns aligned by runs of spaces (CDNOW's master file) are not one delimiter: read each line as one "
            'column, options: {delim: "\\t", header: false}, and split it in the mappings: '
            "regexp_split_to_array(trim(column0), '\\s+')[1] (README: Layouts a mapping cannot express)"
        )
    if source.format == "csv":
        return "check the delimiter, quote and header options ({delim: ';'}, {header: false} …)"
    return f"check that the file is {source.format}"

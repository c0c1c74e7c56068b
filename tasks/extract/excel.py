"""Excel workbooks (.xlsx) as a source's files: which sheets a source reads, read with every cell as text.

A source reads one sheet of each workbook: the first, or the one its options name (`sheet_name`, or
`sheet_id` counting from 1). `sheet_name: "*"` reads every sheet into one table (exports split by year or
by region, such as the UCI Online Retail II workbook): the sheets' columns must agree, a `_sheet` column
says which sheet each row came from, and the rows are numbered through the workbook, sheet after sheet,
so a row's lineage (file, row) stays one row. Sheets a source does not read that hold rows are named in a
warning: a workbook's second half is never left out without a word.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tasks.shared.config import SourceConfig
from tasks.shared.errors import DataError
from tasks.shared.text import counted
from tasks.shared.warehouse import Warehouse

if TYPE_CHECKING:
    from tasks.extract.readers import SourceFile

EVERY_SHEET = "*"
SHEET_COLUMN = "_sheet"  # every-sheet reads: the sheet a row came from
ADDED_COLUMNS = ("_file", "_row")  # what the reader adds to every row: its lineage


class SheetError(DataError):
    """A workbook whose sheets cannot be read as the source's options ask; the message says what to set."""


@dataclass(frozen=True)
class UnreadSheet:
    """A sheet of a workbook that the source does not read, and the rows under its first."""

    name: str
    rows: int


def chosen_sheets(source: SourceConfig, file: "SourceFile", names: list[str]) -> list[str]:
    """The sheets of a workbook (its sheet names in order) that the source reads; a SheetError for options that
    name no sheet of it."""
    # the options themselves are checked with the config (tasks.shared.config.sources.sheet_option_problem)
    name, number = source.options.get("sheet_name"), source.options.get("sheet_id")
    if number is not None:
        if number > len(names):
            raise SheetError(
                f"source {source.name!r}: {file.name} has {len(names)} sheet(s), no sheet {number} (its sheets: "
                f"{names})"
            )
        return [names[number - 1]]
    if name is None:
        return names[:1]
    if name == EVERY_SHEET:
        return names
    if name not in names:
        raise SheetError(f"source {source.name!r}: {file.name} has no sheet {name!r} (its sheets: {names})")
    return [name]


def read_excel(
    wh: Warehouse, source: SourceConfig, file: "SourceFile", table: str, limit: int | None = None
) -> list[UnreadSheet]:
    """The source's sheets of an .xlsx file into temp table `table`, every cell as text (so ids and phone numbers
    keep their digits), with `_file` and `_row` (and `_sheet` when it reads every sheet). limit: a sample of the
    first rows. Returns the sheets left unread that hold rows (not looked for in a sample)."""
    import fastexcel
    import polars as pl

    try:
        workbook = fastexcel.read_excel(file.path)
        names = workbook.sheet_names
    except Exception as exc:  # noqa: BLE001 - the Excel reader raises many kinds; all mean "cannot read"
        raise DataError(f"source {source.name!r}: cannot read {file.name} as xlsx: {exc}") from None
    chosen = chosen_sheets(source, file, names)
    every = source.options.get("sheet_name") == EVERY_SHEET
    head = {} if limit is None else {"read_options": {"n_rows": int(limit)}}
    added = (*ADDED_COLUMNS, SHEET_COLUMN) if every else ADDED_COLUMNS
    frames: list[tuple[str, pl.DataFrame]] = []
    for name in chosen:
        try:
            frame = pl.read_excel(
                file.path,
                engine="calamine",
                infer_schema_length=0,
                sheet_name=name,
                raise_if_empty=False,
                **head,
            )
        except Exception as exc:  # noqa: BLE001
            raise DataError(
                f"source {source.name!r}: cannot read sheet {name!r} of {file.name} as xlsx: {exc}"
            ) from None
        if frame.width == 0:
            if every:
                continue  # a blank sheet (no header either) holds nothing to read
            holding = [other for other in names if other != name and _rows(workbook, other)]
            raise SheetError(
                f"source {source.name!r}: sheet {name!r} of {file.name} is blank"
                + (
                    f"; {', '.join(map(repr, holding))} hold rows: set the reader option sheet_name to one of them, "
                    f"or to '{EVERY_SHEET}' for every sheet"
                    if holding
                    else f" (its sheets: {names})"
                )
            )
        if own := [column for column in frame.columns if column in added]:
            raise SheetError(
                f"source {source.name!r}: sheet {name!r} of {file.name} has a column named {own[0]!r}, a name the "
                "reader gives each row's lineage (_file, _row, and _sheet when every sheet is read); rename the "
                "column in the workbook"
            )
        if frames and set(frame.columns) != set(frames[0][1].columns):
            first, columns = frames[0][0], frames[0][1].columns
            raise SheetError(
                f"source {source.name!r}: sheet {name!r} of {file.name} has the columns {frame.columns}, sheet "
                f"{first!r} {columns}: sheets read together (sheet_name '{EVERY_SHEET}') need the same columns; "
                "make one source per sheet layout (sheet_name) instead"
            )
        if frames:
            frame = frame.select(frames[0][1].columns)
        frames.append((name, frame))
    if not frames:
        raise SheetError(f"source {source.name!r}: every sheet of {file.name} is blank (its sheets: {names})")
    rows = pl.concat(
        [frame.with_columns(pl.lit(name).alias(SHEET_COLUMN)) if every else frame for name, frame in frames]
    )
    if limit is not None:
        rows = rows.head(limit)
    rows = rows.with_columns(_file=pl.lit(file.name), _row=pl.int_range(1, rows.height + 1, dtype=pl.Int64))
    wh.write_frame(table, rows, temp=True)
    return [] if limit is not None else _unread(workbook, names, chosen)


def unread_sheets(source: SourceConfig, file: "SourceFile") -> list[UnreadSheet]:
    """The sheets of a workbook that hold rows the source does not read (what `segments check` warns of)."""
    import fastexcel

    workbook = fastexcel.read_excel(file.path)
    return _unread(workbook, workbook.sheet_names, chosen_sheets(source, file, workbook.sheet_names))


def _unread(workbook: object, names: list[str], chosen: list[str]) -> list[UnreadSheet]:
    return [
        UnreadSheet(name, count) for name in names if name not in chosen and (count := _rows(workbook, name))
    ]


def _rows(workbook: object, name: str) -> int:
    """The rows of a sheet under its first (a header or not): what reading it would stage, blank rows counted."""
    return max(workbook.load_sheet(name, header_row=None).total_height - 1, 0)


def unread_warning(source: SourceConfig, file: "SourceFile", unread: list[UnreadSheet]) -> str:
    """The warning naming a workbook's sheets that hold rows the source does not read."""
    said, fix = unread_said(source, unread)
    return f"source {source.name}: file {file.name}: {said}; {fix}"


def unread_said(source: SourceConfig, unread: list[UnreadSheet]) -> tuple[str, str]:
    """(which sheets holding rows are not read, what to set to read them)."""
    if "sheet_name" in source.options:
        reads = f"sheet {source.options['sheet_name']!r}"
    else:
        reads = f"sheet {source.options['sheet_id']}" if "sheet_id" in source.options else "the first sheet"
    sheets = ", ".join(f"sheet {sheet.name!r} ({counted(sheet.rows, 'row')})" for sheet in unread)
    return (
        f"{sheets} not read (the source reads {reads})",
        f"set the reader option sheet_name: '{EVERY_SHEET}' to read every sheet (with the same columns), or add a "
        "source per sheet",
    )

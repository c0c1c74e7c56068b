"""Files that two sources of one kind read: each of their rows would be staged twice (a payment counted twice).

Sources of different kinds may read one file (Online Retail's transactions, and its buyers' countries as a
customers source over the same file); two of one kind may only when each says which rows are its own
(`where`: a file split by country into two time zones, say), or when they read different sheets of a workbook.
A run and `segments check` stop otherwise.
"""

import glob
from pathlib import Path

from tasks.extract.excel import EVERY_SHEET
from tasks.shared.config import FILE_FORMATS, PipelineConfig, SourceConfig
from tasks.shared.text import counted, listed

FILES_NAMED = 3  # files a message names; the rest are counted


def read_twice(config: PipelineConfig) -> list[tuple[str, str]]:
    """What is wrong, per pair of sources of one kind whose paths match the same files and of which one at least
    has no `where`: the second source of the pair, and which files and what to do. Files are compared by their
    real path (a link is its target)."""
    readers: dict[Path, list[SourceConfig]] = {}
    for source in config.sources:
        if source.format not in FILE_FORMATS:
            continue
        for name in glob.glob(str(config.resolve(Path(source.path))), recursive=True):
            path = Path(name)
            if path.is_file():
                readers.setdefault(path.resolve(), []).append(source)
    pairs: dict[tuple[str, str], list[Path]] = {}
    for path, sources in readers.items():
        for index, first in enumerate(sources):
            for second in sources[index + 1 :]:
                if (
                    first.kind == second.kind
                    and (first.where is None or second.where is None)
                    and _same_sheets(first, second)
                ):
                    pairs.setdefault((first.name, second.name), []).append(path)
    kinds = {source.name: source.kind for source in config.sources}
    base = config.base_dir.resolve()
    messages = []
    for (first, second), paths in pairs.items():
        names = [str(p.relative_to(base)) if p.is_relative_to(base) else str(p) for p in sorted(paths)]
        messages.append(
            (
                second,
                f"sources {first!r} and {second!r}, both {kinds[first]}, read the same {counted(len(paths), 'file')} "
                f"({listed(names, FILES_NAMED)}): each row would be staged twice and count twice in every "
                "customer's features. Point one source's path elsewhere, or give each a `where` that keeps its own rows",
            )
        )
    return messages


def _same_sheets(first: SourceConfig, second: SourceConfig) -> bool:
    """Whether two sources over one file may read the same rows: any two but workbook sources set to different
    sheets (Online Retail II's years, one source a sheet)."""
    if first.format != "xlsx" or second.format != "xlsx":
        return True
    sheets = [
        source.options.get("sheet_name", source.options.get("sheet_id", 1)) for source in (first, second)
    ]
    return EVERY_SHEET in sheets or sheets[0] == sheets[1]

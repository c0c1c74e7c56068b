"""Names a source's path matches, or folders on its way, that cannot be read.

A source's files are its history: a loaded file no longer listed is taken as gone, and its rows leave raw
and staging. A file that is there but cannot be read (a link into a share that is not mounted, no read
permission), or a folder on the way to files that cannot be entered, would look the same to `glob`, which
passes such names over without a word. So they are looked for and named before a load, which then stops.
"""

import errno
import fnmatch
import glob
import os
from pathlib import Path


def unreadable_names(pattern: Path, matched: list[Path]) -> list[tuple[Path, str]]:
    """(name, why) for each name the glob pattern matched (matched) that cannot be read, and each folder on the
    way to its files that cannot be entered; sorted by name."""
    files_named = bool(pattern.suffix)  # `*.parquet`: a folder so named holds rows the path meant to read
    holding = {folder for path in matched for folder in path.parents}  # folders some matched name lies in
    found = []
    for path in matched:
        if path.is_symlink() and not path.exists():
            found.append((path, broken_link(path)))
        elif path.is_file() and not os.access(path, os.R_OK):
            found.append((path, "not readable by this user"))
        elif files_named and path not in holding and path.is_dir():
            # Spark writes a Parquet dataset as a folder events.parquet/ of part files (`**` reaches them)
            found.append(
                (
                    path,
                    f"a folder: to read the files in it, the path must reach them ({path.name}/*{path.suffix})",
                )
            )
    return sorted({*found, *blocked_folders(pattern)})


def broken_link(path: Path) -> str:
    """What a link that leads nowhere leads to."""
    try:
        os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a link that leads back to itself"
    return f"a link to {os.readlink(path)}, which does not exist"


def blocked_folders(pattern: Path) -> list[tuple[Path, str]]:
    """(folder, why) for the folders a pattern's wildcard folder parts match that cannot be entered: a broken
    link (a month's folder linked to an archive share that is not mounted) or a folder this user may not read.
    A pattern whose folders have no wildcard needs no look: a folder missing there matches no file at all, an
    error of its own."""
    parts = pattern.parts[:-1]
    first = next((i for i, part in enumerate(parts) if glob.has_magic(part)), None)
    if first is None:
        return []
    found: list[tuple[Path, str]] = []

    def walk(folder: Path, rest: tuple[str, ...]) -> None:
        if not rest:
            return
        part, tail = rest[0], rest[1:]
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as error:
            found.append((folder, f"a folder this user cannot read: {error.strerror}"))
            return
        if part == "**":
            walk(folder, tail)  # `**` is zero folders too
        for entry in entries:
            hidden = entry.name.startswith(".") and not part.startswith(
                "."
            )  # as glob: not matched by a wildcard
            if hidden or not (part == "**" or fnmatch.fnmatchcase(entry.name, part)):
                continue
            path = Path(entry.path)
            if entry.is_symlink() and not path.exists():
                found.append((path, broken_link(path)))
            elif part == "**" and entry.is_dir(
                follow_symlinks=False
            ):  # a linked folder could loop under `**`
                walk(path, rest)
            elif part != "**" and entry.is_dir():
                walk(path, tail)

    walk(Path(*parts[:first]), parts[first:])
    return found

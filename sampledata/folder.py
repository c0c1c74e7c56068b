"""The generator's own folders: a marker says what it wrote; a folder holding others' warehouse or config is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

MARKER = ".sampledata.json"
# The sample platform's config, copied beside the data it describes.
DEMO_CONFIG = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
CONFIG_NAME = "config.yaml"


class FolderInUseError(ValueError):
    """The folder holds a warehouse or a config that the generator did not write."""


def foreign_files(directory: Path) -> list[Path]:
    """The config.yaml and *.duckdb files of a folder that the generator has not marked as its own."""
    if (directory / MARKER).is_file() or is_sample_config(directory / CONFIG_NAME):
        return []
    config = directory / CONFIG_NAME
    return ([config] if config.is_file() else []) + sorted(directory.glob("*.duckdb"))


def is_sample_config(path: Path) -> bool:
    """Whether path is the sample platform's config as the generator copies it (a folder it wrote before
    it left a marker: `segments demo` of an earlier version); compared as parsed YAML, so comments may differ."""
    try:
        written = yaml.safe_load(path.read_text(encoding="utf-8"))
        shipped = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return written == shipped


def check_folder(directory: Path) -> None:
    """Raise FolderInUseError unless the folder is new, holds no warehouse or config, or is the generator's own."""
    found = foreign_files(Path(directory))
    if found:
        names = ", ".join(path.name for path in found)
        raise FolderInUseError(
            f"{directory} holds {names}, not written by the sample generator (no {MARKER} there): "
            "refusing to generate into it; choose a new folder"
        )


def remove_outputs_of_another_sample(directory: Path, wanted: dict[str, Any]) -> list[str]:
    """Remove the warehouse and the exports a folder's config keeps inside it when they were built from another
    sample than `wanted` (the marker's customers, seed, end and difficulty; an interrupted generation counts as
    another); return what was removed, relative to the folder.

    A new sample rewrites the source files in place, so a warehouse built from the old one would take them as
    changes of the same customers: two samples mixed in one warehouse, ids of the one given to the other.
    Nothing outside the folder is touched, nor anything when the folder's config cannot be read.
    """
    directory = Path(directory)
    previous = read_marker(directory)
    if previous is None or all(previous.get(key) == value for key, value in wanted.items()):
        return []
    try:
        config = yaml.safe_load((directory / CONFIG_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    root = directory.resolve()
    found = []
    for key in ("warehouse", "exports"):
        value = config.get(key) if isinstance(config, dict) else None
        if not isinstance(value, str):  # a lake (a mapping) is not the generator's to remove
            continue
        path = (directory / value).resolve()
        if path == root or root not in path.parents:
            continue
        suffixes = (".wal", ".tmp") if key == "warehouse" else ()
        found += [p for p in (path, *(path.with_name(path.name + s) for s in suffixes)) if p.exists()]
    for path in found:
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    return [path.relative_to(root).as_posix() for path in found]


def read_marker(directory: Path) -> dict[str, Any] | None:
    """What the generator last wrote into a folder, or None when the folder is not marked as its own."""
    try:
        return json.loads((Path(directory) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_marker(directory: Path, generated: dict[str, Any]) -> None:
    """Mark a folder as the generator's own, with what it generated there."""
    text = json.dumps({"generator": "sampledata", **generated}, indent=2, ensure_ascii=False)
    (Path(directory) / MARKER).write_text(text + "\n", encoding="utf-8")

"""The generator's own folders: a marker says what it wrote; a folder holding others' warehouse or config is refused."""

from __future__ import annotations

import json
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

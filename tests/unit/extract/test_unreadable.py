"""Names a source's path matches, or folders on its way, that cannot be read (tasks/extract/unreadable.py): a
load must stop on them, not take their files as gone."""

import glob
from pathlib import Path

from tasks.extract.unreadable import unreadable_names


def names(root: Path, pattern: str) -> list[tuple[str, str]]:
    """unreadable_names of what root/pattern matches, by names relative to root."""
    matched = sorted(Path(p) for p in glob.glob(str(root / pattern), recursive=True))
    return [(str(path.relative_to(root)), why) for path, why in unreadable_names(root / pattern, matched)]


def test_a_month_folder_linked_to_a_share_that_is_not_mounted(tmp_path: Path) -> None:
    (tmp_path / "pay" / "2026-10").mkdir(parents=True)
    (tmp_path / "pay" / "2026-10" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "pay" / "2026-09").symlink_to("/mnt/archive/2026-09")
    (tmp_path / "pay" / ".hidden").symlink_to("/mnt/archive/hidden")  # as glob: a wildcard skips it
    expected = [("pay/2026-09", "a link to /mnt/archive/2026-09, which does not exist")]
    assert names(tmp_path, "pay/*/*.csv") == expected
    assert names(tmp_path, "pay/**/*.csv") == expected
    assert names(tmp_path, "pay/2026-1*/*.csv") == []  # a folder the path does not reach


def test_a_spark_dataset_folder_is_read_through_a_recursive_path_and_named_by_a_flat_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "game" / "events.parquet").mkdir(parents=True)
    (tmp_path / "game" / "events.parquet" / "part-0.parquet").write_bytes(b"")
    assert names(tmp_path, "game/**/*.parquet") == []
    assert names(tmp_path, "game/*.parquet") == [
        (
            "game/events.parquet",
            "a folder: to read the files in it, the path must reach them (events.parquet/*.parquet)",
        )
    ]
    assert names(tmp_path, "game/*") == []  # no extension asked for: a folder is passed over


def test_a_link_that_leads_back_to_itself(tmp_path: Path) -> None:
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "loop.csv").symlink_to(tmp_path / "crm" / "loop.csv")
    assert names(tmp_path, "crm/*.csv") == [("crm/loop.csv", "a link that leads back to itself")]

"""Which files of a source are new, changed, gone, moved or copies of loaded ones, by content (SHA-256) and times.

A loaded file found under another name while its old name is gone is that file moved: not read again. A new file of
facts with the content of a file present and loaded (or read in the same run) is a copy ("payments (1).csv"): not
read, so that its rows without an id are not counted twice; it is read when the file it copies is gone, as a move.
"""

import logging
from dataclasses import replace

from tasks.extract.kept_files import define_view, keeps_files
from tasks.extract.readers import SourceFile, source_files
from tasks.shared.config import PipelineConfig, SourceConfig
from tasks.shared.contracts import FACT_KINDS
from tasks.shared.files import file_hash
from tasks.shared.warehouse import Warehouse


def scan_files(
    wh: Warehouse,
    config: PipelineConfig,
    source: SourceConfig,
    state: dict[str, dict],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> tuple[int, list[SourceFile], list[str], dict[str, str]]:
    """Compare a source's files with what was loaded: (file count, new or changed files, gone files, hashes).

    A file under a new name with the content of a loaded file gone from its name is that file moved
    (follow_renames): it keeps its name in lineage and is not read again.
    """
    hashes: dict[str, str] = {}
    files = follow_renames(wh, source, source_files(config, source), state, hashes, run_id, logger)
    if keeps_files(wh, source):
        follow_moves(wh, source, files)
    changed, new = [], []
    for file in files:
        known = state.get(file.name)
        seen = (file.size, file.mtime_ns, file.ctime_ns)
        if (
            file.name not in hashes
            and known
            and (known["size"], known["mtime_ns"], known.get("ctime_ns")) == seen
        ):
            hashes[file.name] = known["file_hash"]
            continue
        # new, or written since (its ctime moved even when its size and mtime were kept): hashed
        hashes[file.name] = hashes.get(file.name) or file_hash(file.path)
        if not known:
            new.append(file)
        elif known["file_hash"] != hashes[file.name]:
            changed.append(file)
        else:  # touched, copied or moved, same content
            wh.execute(
                "update audit.load_state set size = ?, mtime_ns = ?, ctime_ns = ? where source = ? and file = ?",
                [*seen, source.name, file.name],
            )
    # content -> the file present that holds it, loaded or read in this run: a new file with it is a copy
    holders = {hashes[f.name]: f.name for f in files if f.name in state}  # loaded, changed or not
    for file in new:
        # "payments (1).csv": its facts are loaded already (a customers file with the same content is a snapshot
        # again, a version of its records from its load time on)
        if hashes[file.name] in holders and source.kind in FACT_KINDS:
            say_copy(source, file.name, holders[hashes[file.name]], logger)
        else:
            holders[hashes[file.name]] = file.name
            changed.append(file)
    order = {file.name: position for position, file in enumerate(files)}
    changed.sort(key=lambda file: order[file.name])  # read in the order the files are listed
    return len(files), changed, sorted(set(state) - set(hashes)), hashes


def say_copy(
    source: SourceConfig, name: str, original: str, logger: logging.Logger | logging.LoggerAdapter | None
) -> None:
    """Warn of a new file not read: it has the content of a file loaded or read (rows without an id would count twice)."""
    (logger or logging.getLogger(__name__)).warning(
        "source %s: %s has the content of %s: not read, a copy (it is read when %s is gone, as that file moved)",
        source.name,
        name,
        original,
        original,
    )


def follow_renames(
    wh: Warehouse,
    source: SourceConfig,
    files: list[SourceFile],
    state: dict[str, dict],
    hashes: dict[str, str],
    run_id: str,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> list[SourceFile]:
    """The files, those with a loaded file's content under a new name carrying the loaded file's name.

    A re-pointed symlink, a renamed folder or a renamed file gives loaded rows a new lineage name; without
    this they would be forgotten (with a warning of their loss) and read again as new. A file under a name
    not loaded is hashed, and when a loaded file gone from its name had that content, it is that file: the
    move is kept in audit.file_moves, so later runs map the name back without hashing the file again. Each
    gone file is followed once. The hashes of files hashed here are put in hashes, by the name they carry.
    """
    present = {file.name for file in files}
    moves = {
        found_as: file
        for found_as, file in wh.rows(
            "select found_as, file from audit.file_moves where source = ?", [source.name]
        )
        if file in state and file not in present and found_as in present
    }
    gone: dict[str, list[str]] = {}
    for name, known in sorted(state.items()):
        if name not in present and name not in moves.values():
            gone.setdefault(known["file_hash"], []).append(name)
    followed, found = [], []
    for file in files:
        if file.name in state:
            followed.append(file)
            continue
        if file.name in moves:
            followed.append(replace(file, name=moves[file.name]))
            continue
        if not gone:
            followed.append(file)
            continue
        digest = file_hash(file.path)
        if gone.get(digest):
            old = gone[digest].pop(0)
            if logger is not None:
                logger.info(
                    "source %s: %s has the content of %s, gone from there: followed as a move (its rows keep "
                    "the name %s)",
                    source.name,
                    file.name,
                    old,
                    old,
                )
            found.append((old, file.name))
            file = replace(file, name=old)
        hashes[file.name] = digest
        followed.append(file)
    if found:
        olds, news = [old for old, _ in found], [new for _, new in found]
        # one current place per loaded file, and one loaded file per place
        wh.execute(
            "delete from audit.file_moves where source = ? "
            "and (list_contains(?, found_as) or list_contains(?, file))",
            [source.name, news, olds],
        )
        wh.execute(
            "insert into audit.file_moves select ?, unnest(?::varchar[]), unnest(?::varchar[]), now(), ?",
            [source.name, olds, news, run_id],
        )
    return followed


def follow_moves(wh: Warehouse, source: SourceConfig, files: list[SourceFile]) -> None:
    """Point raw.<source> at the kept files where they are now (the project folder moved, the config's path
    became absolute ...): the same files by name, size and mtime (a changed one is read again anyway)."""
    found = [[f.name for f in files], [str(f.path.resolve()) for f in files], source.name]
    found_sql = "(select unnest(?::varchar[]) as file, unnest(?::varchar[]) as path) as found"
    where = "raw_files.source = ? and raw_files.file = found.file and raw_files.path <> found.path"
    if not wh.scalar(f"select count(*) from audit.raw_files, {found_sql} where {where}", found):
        return
    wh.execute(f"update audit.raw_files set path = found.path from {found_sql} where {where}", found)
    define_view(wh, source)

"""Generated evaluation sets with ground truth: historical-style people, and two systems' payments.

`make_set` writes one set's CSV files and a ready pipeline config (config.yaml) into a folder. The
config is the documented template of config/linkage/<set>.yaml, with paths made relative to the
folder; the template itself reads the conventional folder evaluation-data/<set>/ at the repository
root. The same kind, size and seed always give the same bytes. Generated data never goes into git.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evaluation.datasets.historical import DEFAULT_RECORDS, write_historical
from evaluation.datasets.transactions import DEFAULT_PAYMENTS, write_transactions

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "config" / "linkage"
DEFAULT_SEED = 17


@dataclass(frozen=True)
class EvaluationSet:
    """One kind of generated set: how to write it, its default size, and its ground truth column."""

    write: Callable[[Path, int, int], list[str]]
    default_size: int
    size_means: str  # what the size counts
    truth: str  # SQL expression over a raw row giving its true identity


SETS = {
    "historical": EvaluationSet(write_historical, DEFAULT_RECORDS, "records", "cluster"),
    "transactions": EvaluationSet(write_transactions, DEFAULT_PAYMENTS, "true payments", "payment_id"),
}


def config_text(kind: str, command: str) -> str:
    """The template config of a set with its paths relative to the data folder, headed by the command."""
    template = (TEMPLATES / f"{kind}.yaml").read_text(encoding="utf-8")
    prefix = f"../../evaluation-data/{kind}/"
    if prefix not in template:
        raise ValueError(f"{TEMPLATES / f'{kind}.yaml'} reads no file under {prefix}")
    header = (
        f"# Written by `{command}`: paths below are relative to this folder; the comments below are\n"
        f"# those of the template, config/linkage/{kind}.yaml.\n"
    )
    return header + template.replace(prefix, "")


def make_set(kind: str, directory: Path, size: int | None = None, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write a set's CSV files and its config.yaml into directory (created); the paths written."""
    if kind not in SETS:
        raise ValueError(f"unknown evaluation set {kind!r}; known: {', '.join(SETS)}")
    spec = SETS[kind]
    size = spec.default_size if size is None else size
    directory.mkdir(parents=True, exist_ok=True)
    names = spec.write(directory, size, seed)
    command = f"python -m evaluation make-set {kind} --records {size} --seed {seed}"
    (directory / "config.yaml").write_text(config_text(kind, command), encoding="utf-8")
    return [directory / name for name in [*names, "config.yaml"]]

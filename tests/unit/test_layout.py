"""The layout rules of docs/architecture.md, checked on the tree: imports follow the data flow, SQL lives in sql/."""

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO

# Stages in data-flow order; tasks.shared is below all of them. A stage may import itself, the
# stages before it and the shared bottom, never a later stage.
STAGES = ("shared", "extract", "dedupe", "features", "predict", "segment", "act", "publish", "erase")
PRODUCT = ("tasks", "flows", "evaluation", "bench")
MAX_LINES = 500
# The only Python that may hold a create statement or multi-line SQL: the warehouse object, and the
# staging template filler (staging SQL is generated from the config's mappings) and the binding of those mappings.
SQL_IN_PYTHON_ALLOWED = {
    "tasks/shared/warehouse.py",
    "tasks/extract/staging.py",
    "tasks/extract/mapping_checks.py",
}


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any level (function-level imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "tasks" and parts[1] in STAGES else None


@pytest.mark.parametrize("path", python_files("tasks"), ids=lambda p: str(p.relative_to(REPO)))
def test_a_stage_imports_only_earlier_stages_and_the_shared_bottom(path: Path) -> None:
    own = path.relative_to(REPO / "tasks").parts[0]
    if own not in STAGES:
        return
    later = [
        module
        for module in imported_modules(path)
        if (stage := stage_of(module)) is not None and STAGES.index(stage) > STAGES.index(own)
    ]
    assert later == [], f"{path.relative_to(REPO)} ({own}) imports later stages: {later}"


@pytest.mark.parametrize("path", python_files("tasks"), ids=lambda p: str(p.relative_to(REPO)))
def test_nothing_below_the_flows_imports_a_flow_or_a_tool(path: Path) -> None:
    outside = sorted(
        m for m in imported_modules(path) if m.split(".")[0] in ("flows", "sampledata", "evaluation", "bench")
    )
    assert outside == [], f"{path.relative_to(REPO)} imports {outside}"


@pytest.mark.parametrize("path", python_files(*PRODUCT), ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_outside_the_sample_generator_is_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines"


SQL_STATEMENT = re.compile(
    r"\b(create|insert\s+into|update\s+\S+\s+set|delete\s+from|select\b[\s\S]*\bfrom)\b", re.I
)


def sql_strings(path: Path) -> list[str]:
    """String literals of a file that hold a create statement, or several lines of SQL (docstrings aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        creates = re.search(r"\bcreate\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(table|view)\b", text, re.I)
        multiline = "\n" in text.strip() and SQL_STATEMENT.search(text)
        if creates or multiline:
            found.append(text.strip().splitlines()[0][:80])
    return found


@pytest.mark.parametrize("path", python_files("tasks", "flows"), ids=lambda p: str(p.relative_to(REPO)))
def test_sql_lives_in_sql_files(path: Path) -> None:
    if str(path.relative_to(REPO)) in SQL_IN_PYTHON_ALLOWED:
        return
    assert sql_strings(path) == [], f"{path.relative_to(REPO)} holds SQL that belongs in sql/"


@pytest.mark.parametrize(
    "path", sorted((REPO / "sql").rglob("*.sql")), ids=lambda p: str(p.relative_to(REPO))
)
def test_every_model_file_opens_with_its_grain(path: Path) -> None:
    header = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        header.append(line)
    assert header, f"{path.relative_to(REPO)} has no header comment"
    text = " ".join(header)
    assert "Grain:" in text, f"{path.relative_to(REPO)}: the header does not say what one row is"
    body = path.read_text(encoding="utf-8")[len("\n".join(header)) :]
    if not re.search(r"^\s*create (table if not exists|or replace temp table)", body, re.I | re.M):
        # a query or statement (not a table definition) says what it takes, "Parameters: none" included
        assert "Parameters:" in text, f"{path.relative_to(REPO)}: the header does not name its parameters"

"""Every `segments …` command the README shows parses with the real command line, and every command the
command line has is in the README. (tests/e2e/test_cli.py and test_demo.py execute them.)"""

import re
from pathlib import Path

import click
import pytest
import typer

from flows.cli import app
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")

# placeholders the README writes, and a value of the right kind for each
PLACEHOLDERS = {
    "PATH": "{config}",
    "YYYY-MM-DD": "2026-06-30",
    "D": "2026-06-30",
    "ID": "C0123456789abcdef",
    "CUSTOMER_ID": "C0123456789abcdef",
    "C…": "C0123456789abcdef",
    "SOURCE": "crm",
    "COMMAND": "profile --config {config}",
}


def readme_commands() -> list[str]:
    """Every backquoted `segments …` in the README, with line breaks inside the quotes joined."""
    return sorted({" ".join(m.split()) for m in re.findall(r"`(segments [^`]+)`", README)})


def concrete(command: str, config: Path) -> list[str]:
    """The README's command with its optional parts included and its placeholders filled in."""
    words = command.replace("[", " ").replace("]", " ").replace("...", " ").split()[1:]
    filled = [PLACEHOLDERS.get(word, word).format(config=config) for word in words]
    return " ".join(filled).split()


def parse(args: list[str]) -> click.Context:
    """Parse args as `segments` would, down to the subcommand, without running it."""
    group = typer.main.get_command(app)
    context = group.make_context("segments", list(args), resilient_parsing=False)
    name, command, rest = group.resolve_command(context, [*context._protected_args, *context.args])
    return command.make_context(name, rest, parent=context)


def test_the_readme_shows_every_command_the_cli_has() -> None:
    documented = {concrete(c, Path("x"))[0] for c in readme_commands() if not c.startswith("segments --")}
    assert documented == set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"segments --version", "segments --debug COMMAND ..."} <= set(readme_commands())


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_parses(command: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("warehouse: w.duckdb\n", encoding="utf-8")
    args = concrete(command, config)
    if args == ["--version"]:
        return  # an eager option: it prints and exits while parsing (tests/e2e/test_cli.py runs it)
    context = parse(args)
    assert context.command.name == next(a for a in args if not a.startswith("-"))

"""`python -m flows` is the `segments` command."""

from flows.cli import app

app(prog_name="segments")

"""`python -m sampledata` writes sample data and its config into a folder (see sampledata/cli.py)."""

from sampledata.cli import app

app()

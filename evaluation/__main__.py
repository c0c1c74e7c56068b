"""`python -m evaluation score ...` scores identity resolution against ground truth (see evaluation/cli.py)."""

from evaluation.cli import app

app()

"""`python -m flows` is the `segments` command."""

from flows.cli import main

main()

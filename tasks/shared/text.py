"""Wording shared by log lines and summaries, and text aligned in a terminal."""

import unicodedata


def counted(n: int, noun: str) -> str:
    """n and the noun, plural unless n is 1: 1 row, 1,955 rows."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def cells(text: str) -> int:
    """The columns text takes in a terminal: wide characters (Han, kana, full-width forms) take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def fit(text: str, width: int) -> str:
    """text cut to at most width terminal columns and padded with spaces to exactly width (cells)."""
    kept, used = [], 0
    for char in text:
        size = cells(char)
        if used + size > width:
            break
        kept.append(char)
        used += size
    return "".join(kept) + " " * (width - used)

"""Wording shared by log lines and summaries."""


def counted(n: int, noun: str) -> str:
    """n and the noun, plural unless n is 1: 1 row, 1,955 rows."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")

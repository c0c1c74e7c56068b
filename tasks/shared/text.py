"""Wording shared by log lines and summaries."""


def sized(size: float) -> str:
    """A number of bytes in binary units, one decimal: 512 B, 3.4 GiB."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} B" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def counted(n: int, noun: str) -> str:
    """n and the noun, plural unless n is 1: 1 row, 1,955 rows."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def listed(items: list[str], named: int) -> str:
    """The first `named` items, comma-separated, and how many more there are: 'a', 'b' and 3 more."""
    shown = ", ".join(items[:named])
    return shown + (f" and {len(items) - named} more" if len(items) > named else "")

"""Counts in words, as kubectl and English say them: "1 error", "0 errors", "1 branch", "2 branches";
a few of many named: "a, b and c", "a, b, c and 297 more"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it: the singular for exactly one, else ``plural`` (default ``noun + "s"``)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def agrees(n: int, singular: str, plural: str) -> str:
    """The verb (or phrase) that agrees with a count of ``n``: ``agrees(n, "has", "have")``."""
    return singular if n == 1 else plural


def listed(items: list[str], most: int = 3) -> str:
    """``items`` in words, the first ``most`` named and the rest counted: "a", "a and b", "a, b and c",
    "a, b, c and 297 more"."""
    if len(items) > most:
        return ", ".join(items[:most]) + f" and {len(items) - most} more"
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)

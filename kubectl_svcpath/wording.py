"""Counts in words, as kubectl and English say them: "1 error", "0 errors", "1 branch", "2 branches"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it: the singular for exactly one, else ``plural`` (default ``noun + "s"``)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def agrees(n: int, singular: str, plural: str) -> str:
    """The verb (or phrase) that agrees with a count of ``n``: ``agrees(n, "has", "have")``."""
    return singular if n == 1 else plural

"""Counts in words, as kubectl and English say them: "1 error", "0 errors", "1 branch", "2 branches";
a few of many named: "a, b and c", "a, b, c and 297 more"; numbered places: "line 6", "lines 6, 19, 36"; runs of
lines: "lines 3-10, 15"."""

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


def numbered(noun: str, numbers: list[int], most: int = 8) -> str:
    """The noun agreeing with how many ``numbers`` it names, then the first ``most`` of them: "line 6",
    "lines 6, 19, 36", "lines 1, 2, 3, 4, 5, 6, 7, 8 and 3 more" (the form of the input's notes)."""
    shown = ", ".join(map(str, numbers[:most])) + (f" and {len(numbers) - most} more" if len(numbers) > most else "")
    return f"{noun if len(numbers) == 1 else noun + 's'} {shown}"


def line_spans(spans: list[tuple[int, int]], most: int | None = 6) -> str:
    """Runs of lines: "1-3, 7, 9-12" (the first ``most`` runs, the rest counted; all of them for None)."""
    shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans[:most])
    return shown + (f" and {len(spans) - most} more" if most is not None and len(spans) > most else "")


def numbered_spans(noun: str, spans: list[tuple[int, int]]) -> str:
    """The noun, then every run of ``spans``: "line 6", "lines 6-9", "lines 6, 19" (plural for one run of more than one)."""
    plural = len(spans) > 1 or (bool(spans) and spans[0][0] != spans[0][1])
    return f"{noun + 's' if plural else noun} {line_spans(spans, None)}"


def times(n: int) -> str:
    """How often, in words: "once", "twice", "3 times"."""
    return {1: "once", 2: "twice"}.get(n, f"{n} times")

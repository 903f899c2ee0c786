"""Terminal safety and colour for the text renderers.

Rule comments, names and error text come from outside (a dump someone sent, a cluster):
they may hold ANSI escapes, carriage returns or newlines that would rewrite the screen or
fake output. Every piece of such text goes through ``safe()`` before it is printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# C0 controls (newline and tab included: a cell must stay on its line), DEL, C1 controls,
# and the Unicode line/paragraph separators and bidi overrides that reorder what is shown
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\n``)."""
    s = "" if text is None else str(text)
    return _UNSAFE.sub(_escape, s)


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


_CODES = {"red": "31", "yellow": "33", "cyan": "36", "green": "32", "bold": "1", "dim": "2"}
# the document-level pass: newline and tab lay the output out; with colour on, the SGR
# sequences Style.paint writes (and nothing else that starts with ESC) pass as well
_UNSAFE_DOC = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_OWN_SGR = re.compile("\x1b\\[(?:%s)m" % "|".join(sorted({*_CODES.values(), "0"})))


def terminal_safe(text: str, color: bool) -> str:
    """The whole output of a terminal format (table, wide, tree), made safe in one place.

    Renderers escape each untrusted field with ``safe()``; this pass catches any field one of
    them missed: no control character but newline and tab (and, with colour, our own SGR codes)
    reaches the terminal.
    """
    if not color:
        return _UNSAFE_DOC.sub(_escape, text)
    parts = _OWN_SGR.split(text)
    codes = _OWN_SGR.findall(text)
    out = [_UNSAFE_DOC.sub(_escape, parts[0])]
    for code, part in zip(codes, parts[1:], strict=False):
        out += [code, _UNSAFE_DOC.sub(_escape, part)]
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Style:
    """Colour on or off; renderers only ask this object, never the environment."""

    color: bool = False

    def paint(self, text: str, color: str) -> str:
        if not self.color or not text:
            return text
        return f"\x1b[{_CODES[color]}m{text}\x1b[0m"

    def severity(self, severity: str) -> str:
        label = severity.upper()
        return self.paint(label, {"error": "red", "warning": "yellow"}.get(severity, "cyan"))


def use_color(choice: str, isatty: bool, no_color_env: bool) -> bool:
    """--color auto|always|never; auto honours NO_COLOR and colours only a terminal."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return isatty and not no_color_env


def human_count(value: int | None) -> str:
    return "-" if value is None else str(value)


def human_bytes(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value}B"


def share(p: float | None) -> str:
    if p is None:
        return "-"
    pct = p * 100
    if 0 < pct < 0.05:  # (one of 3,000 endpoints: "0.033%", not "0%", which says it gets none)
        return f"{pct:.2g}%"
    if 99.95 < pct < 100:  # (nor "100%" for a share that is not all)
        return ">99.9%"
    return f"{pct:.0f}%" if abs(pct - round(pct)) < 0.05 else f"{pct:.1f}%"

"""--help's hand-laid blocks (where rules come from, the examples) fitted to a narrow terminal: pure text.

click prints a ``\\b`` block as written; at 80 columns and more each line fits and nothing changes.
Narrower, a line that does not fit is wrapped as its kind reads: a definition's text under its own
column, a ``#`` comment as more comment lines, a command with a trailing ``\\`` before one of its flags.
"""

from __future__ import annotations

import re
import textwrap

_DEFINITION = re.compile(r"(\s*)(\S(?:.*?\S)?)(\s{2,})(\S.*)")  # "  --local         this machine's own ..."
_COMMANDS = ("kubectl ", "sudo ")
_NARROWEST_TEXT = 24  # a definition's text narrower than this goes under its term instead


def fit_blocks(text: str, width: int) -> str:
    """``text`` with each of its ``\\b`` blocks (click's mark: printed as written) fitted to ``width``."""
    paragraphs = text.split("\n\n")
    for i, par in enumerate(paragraphs):
        head, _, body = par.partition("\n")
        if head.strip() == "\b" and body:
            paragraphs[i] = head + "\n" + "\n".join(fit_block(body.split("\n"), width))
    return "\n\n".join(paragraphs)


def fit_block(lines: list[str], width: int) -> list[str]:
    """The lines of a verbatim block, each no wider than ``width`` when its words allow; unchanged when they fit."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith(_COMMANDS):  # a command and its "\"-continued lines: one command
            words = body.split()
            j = i + 1
            while words[-1] == "\\" and j < len(lines):
                words = words[:-1] + lines[j].split()
                j += 1
            item = lines[i:j]
            fitted = _command(words, indent, width)
        elif body.startswith("# "):
            item, j = [line], i + 1
            fitted = _wrap(body[2:], width, " " * indent + "# ", " " * indent + "# ")
        elif (m := _DEFINITION.fullmatch(line)) is not None:
            column = len(m.group(1)) + len(m.group(2)) + len(m.group(3))
            j = i + 1
            while j < len(lines) and lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) == column:
                j += 1
            item = lines[i:j]
            text = " ".join([m.group(4), *(s.strip() for s in lines[i + 1:j])])
            if width - column >= _NARROWEST_TEXT:
                fitted = _wrap(text, width, m.group(1) + m.group(2) + m.group(3), " " * column)
            else:
                fitted = [m.group(1) + m.group(2), *_wrap(text, width, " " * (indent + 4), " " * (indent + 4))]
        else:
            item, j = [line], i + 1
            fitted = _wrap(body, width, " " * indent, " " * indent)
        out += fitted if any(len(s) > width for s in item) else item
        i = j
    return out


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False,
                         break_long_words=False) or [first.rstrip()]


def _command(words: list[str], indent: int, width: int) -> list[str]:
    """A command broken before its flags (a flag keeps its value), each broken line ending in " \\"."""
    groups: list[str] = []
    for w in words:
        if groups and not w.startswith("-"):
            groups[-1] += " " + w
        else:
            groups.append(w)
    lines = [" " * indent + groups[0]]
    for n, g in enumerate(groups[1:], 2):
        if len(lines[-1]) + 1 + len(g) + (2 if n < len(groups) else 0) <= width:  # (room for a " \" after it)
            lines[-1] += " " + g
        else:
            lines[-1] += " \\"
            lines.append(" " * (indent + 4) + g)
    return lines

"""Split one iptables-save rule line into words, as iptables itself quotes them.

iptables-save (xtables_save_string) wraps a value in double quotes when it holds spaces or
quotes, and escapes only ``"`` and ``\\`` inside. shlex would also interpret single quotes and
other backslashes, which a comment may contain: do not use it.
"""

from __future__ import annotations

import re

# a word is a run of unquoted characters and quoted parts: --comment "a b" or foo"bar baz"
_WORD = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^\s"]+)+')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")


class TokenError(ValueError):
    pass


def split_words(line: str) -> list[str]:
    """Words of ``line`` with quotes removed and ``\\"``/``\\\\`` unescaped."""
    if "\\" not in line and line.count('"') % 2 == 0:
        # the common case (an --all audit reads ~300,000 rules): without escapes, an even number of
        # quotes pair up left to right, so one findall() in C splits as the loop below does
        if '"' not in line:
            return line.split()
        return [w.replace('"', "") if '"' in w else w for w in _WORD.findall(line)]
    words: list[str] = []
    pos = 0
    n = len(line)
    while pos < n:
        while pos < n and line[pos].isspace():
            pos += 1
        if pos >= n:
            break
        m = _WORD.match(line, pos)
        if m is None:  # a quote that never closes
            raise TokenError("unterminated quoted string")
        words.append(_unquote(m.group(0)))
        pos = m.end()
    return words


def _unquote(word: str) -> str:
    if '"' not in word:
        return word
    return _QUOTED.sub(lambda m: _ESCAPE.sub(r"\1", m.group(1)), word)


def split_lines(text: str) -> list[str]:
    """Lines on "\n" only (a trailing "\r" of a Windows paste dropped).

    str.splitlines() also breaks on \r, \x1c-\x1e, \x85 and U+2028, which a rule comment
    may contain: the rule would be cut in two and its tail read as another line.
    """
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


MAX_DIGITS = 20  # a 64-bit counter; Python refuses to convert over 4,300 digits at all


def counter(word: str) -> int:
    """A non-negative decimal count (packets, bytes, connections, weights).

    Raises ValueError with a short reason for anything else, including numbers longer than a
    64-bit counter (Python's own error for 4,300+ digits would tell the user to call
    sys.set_int_max_str_digits()).
    """
    if not word.isdigit() or not word.isascii():
        raise ValueError(f"not a count: {word[:40]!r}")
    if len(word) > MAX_DIGITS:
        raise ValueError(f"a {len(word)}-digit number where a count belongs")
    return int(word)

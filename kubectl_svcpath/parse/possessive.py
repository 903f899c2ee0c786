"""Regexes written with possessive quantifiers (Python 3.11+), compiled on Python 3.10 too.

A possessive quantifier (``*+``, ``++``, ``?+``, ``{m,n}+``) keeps no backtracking state: over the
300,000 lines of a big dump that is much of a pass's time. Python 3.10's ``re`` refuses them
("multiple repeat"), so there a pattern is compiled from its greedy twin (the same pattern without
the possessive ``+``). Where these patterns use them, the greedy form can give back nothing that
lets the rest match, so both find the same matches; the twin only backtracks more. A pattern whose
twin would nest unbounded quantifiers (exponential backtracking on a failing line) brings its own
``fallback`` for Python 3.10.
"""

from __future__ import annotations

import re
import sys

_POSSESSIVE = re.compile(r"(?<!\\)([*+?}])\+")


def greedy_twin(pattern: str) -> str:
    """The pattern with each possessive quantifier made greedy: ``\\S++`` -> ``\\S+``, ``{1,20}+`` -> ``{1,20}``."""
    return _POSSESSIVE.sub(r"\1", pattern)


def compile_possessive(pattern: str, flags: int = 0, fallback: str | None = None) -> re.Pattern[str]:
    if sys.version_info >= (3, 11):
        return re.compile(pattern, flags)
    return re.compile(fallback if fallback is not None else greedy_twin(pattern), flags)

"""The words that mark a cut inside a rule line (``-A KUBE-SVC-X ... -j KUBE-SEP-Y``): the iptables-save reader's
(parse_save.py), apart from parse/excerpt.py, which it would otherwise load for every dump."""

from __future__ import annotations

ELISION_WORDS = frozenset(("...", "…", "....", ".....", "......", "[...]", "[snip]", "<snip>", "<truncated>", "[truncated]"))


def is_elision_word(word: str) -> bool:
    """A cut inside a rule line: ``-A KUBE-SVC-X ... -j KUBE-SEP-Y``."""
    return word in ELISION_WORDS


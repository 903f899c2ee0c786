"""YAML's double-quoted scalars escape '"', the backslash, control characters and everything past ASCII
(render/structured._NEEDS_ESCAPE, written as the complement of the printable rest: quick to compile)."""

from __future__ import annotations

from kubectl_svcpath.render.structured import _NEEDS_ESCAPE


def test_exactly_quote_backslash_controls_and_non_ascii_need_escaping() -> None:
    every = "".join(map(chr, range(0x110000)))
    escaped = {m.start() for m in _NEEDS_ESCAPE.finditer(every)}
    assert escaped == {c for c in range(0x110000) if c in (0x22, 0x5C) or c < 0x20 or c >= 0x7F}

"""--trace in an 80-column terminal, as the --help example runs it: no line is folded by the terminal (the
summary's MASQUERADE cell, the kernel's-view notes and the -o tree branches ran to 86-160 columns)."""

from __future__ import annotations

import pytest

from tests.terminal import in_tmux

EXAMPLE = ["--example", "--trace", "node", "--to", "10.101.173.15:49191"]


@pytest.mark.parametrize("fmt", ["table", "tree"])
def test_the_help_example_fits_80_columns(fmt: str) -> None:
    lines = in_tmux([*EXAMPLE, "-o", fmt], 80)
    assert lines and not [line for line in lines if len(line) > 80], "\n".join(lines)
    text = "\n".join(lines)
    if fmt == "table":
        # which rule marked it for masquerading: in the branch's own lines, not a cut cell
        assert "  2-4       delivered  192.168.189.15:9191  ?        yes\n" in text
        assert "source masqueraded (marked by nat\n    KUBE-SEP-GZ2FT6XOW5XY6PQC #1)" in text
        assert ("                                    ^ kernel's view: tcp dport 49191\n"
                "                                      ([2]#/nftables/34/rule)\n") in text
        assert "(branches 3 and 4 reach the same outcome" in text  # was "branches 3,4"
    else:
        assert "  └─ nat KUBE-SERVICES #2: jump KUBE-SVC-P73F5K5MMQHXGZV7  [1]:35\n" in text
        assert "        [kernel's view: tcp dport 49191 ([2]#/nftables/34/rule)]\n" in text


def test_a_wide_terminal_keeps_the_rows_whole() -> None:
    text = "\n".join(in_tmux(EXAMPLE, 200))
    assert "  2-4       delivered  192.168.189.15:9191  ?        yes (nat KUBE-SEP-GZ2FT6XOW5XY6PQC #1)" in text
    assert "^ kernel's view: tcp dport 49191 ([2]#/nftables/34/rule)" in text

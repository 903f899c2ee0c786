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


def test_nftables_rules_too_long_for_three_columns_are_stacked() -> None:
    """nftables' chain names made each step row 120 columns: the terminal cut 'jump firew'/'all-check'. At 80
    columns each rule and its evidence are a row, what it does the row under it."""
    from tests.conftest import DUMPS

    dump = str(DUMPS / "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt")
    lines = in_tmux(["--rules-file", dump, "svc2", "--trace", "10.0.0.9", "--to", "172.30.0.42:80"], 80)
    assert all(len(ln) <= 80 for ln in lines if not ln.startswith("Rules:")), "\n".join(lines)
    at = lines.index("  ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 #2  [1]:70")
    assert lines[at + 1] == "      goto endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80"
    assert any(ln.startswith("Rules:    [1] /") for ln in lines)  # the long path beside its number
    wide = in_tmux(["--rules-file", dump, "svc2", "--trace", "10.0.0.9", "--to", "172.30.0.42:80"], 200)
    assert any(ln.startswith("  ip kube-proxy services #1 ") and ln.endswith("goto service-42NFTM6N-ns2/svc2/tcp/p80"
                                                                          "                  [1]:80") for ln in wide)

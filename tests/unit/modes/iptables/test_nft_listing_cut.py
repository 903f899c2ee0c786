"""iptables-nft's chains as `nft list chain` prints them, cut by the author with "...": no chain is known whole.

A real paste (tests/corpus/aantonov-nft-list-chain-ext.txt) cut right after its chain's opening line - as authors
cut a long chain - read as an empty KUBE-EXT chain, known whole: "warning: no-local-endpoints ... traffic is
dropped here", with no rule as evidence. A cut chain block may have lost rules at the "...", as an iptables -L
excerpt's may (found by cutting the corpus' pastes at random lines and reading every absence the reports claimed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import svcpath

PASTE = Path(__file__).resolve().parents[3] / "corpus" / "aantonov-nft-list-chain-ext.txt"


@pytest.mark.parametrize("before", ["", "...\n"])
def test_a_chain_block_cut_after_its_opening_line_is_not_in_the_input(tmp_path: Path, before: str) -> None:
    lines = PASTE.read_text().splitlines()
    f = tmp_path / "cut.txt"
    f.write_text(before + "\n".join(lines[:3]) + "\n...\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert "no-local-endpoints" not in out
    row = " ".join(out.splitlines()[1].split())
    assert row.endswith("? - ?: not in the input"), out  # (ENDPOINTS "?", was "0 local")



def test_a_grep_for_the_chain_name_is_its_header_alone(tmp_path: Path) -> None:
    """`… | grep KUBE-EXT-…` of the same paste keeps the command and the chain's opening line: the block, closed where
    its lines end, was read whole and empty - "warning: no-local-endpoints" (found by tests/fuzz/cuts.py)."""
    f = tmp_path / "grep.txt"
    f.write_text("".join(line + "\n" for line in PASTE.read_text().splitlines() if "KUBE-EXT-EDNDUDH2C75GIR6O" in line))
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    assert "no-local-endpoints" not in out
    assert " ".join(out.splitlines()[1].split()).endswith("? - ?: not in the input"), out

"""Bare rule lines that open with a service chain's endpoint jumps may have left its first jumps out.

Any tail of kube-proxy's cascade is itself a cascade: 1/5, 1/4, 1/3, 1/2, then the rest reads as five endpoints
whether the chain has five or six. Real pastes cut where their authors might have begun copying (found by
tests/fuzz/cuts.py --counts, seeds 24 and 25): tests/corpus/robric-k3s129-S-v-counters-two-states.txt from its
second jump (six endpoints) read "5 endpoints ... rules OK", ENDPOINTS 5, each 20%; a kind grep
(tests/corpus/katacoda-kind-grep-xlb-local.txt) from the service chain's last jump read "1 endpoint", 100%, of a
Service with two. A masquerade rule, a header or another chain's rule above the jumps shows where the chain starts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import corpus_cut as _cut, svcpath


@pytest.mark.parametrize(("paste", "first", "last", "service", "shown", "health"), [
    ("robric-k3s129-S-v-counters-two-states.txt", 30, 36, "nginx-mlb-l2-service", 5, "?: not in the input"),
    # (the cut holds the KUBE-XLB chain's 'has no local endpoints' DROP after the jump: its way is followed too)
    ("katacoda-kind-grep-xlb-local.txt", 11, 15, "test-svc", 1, "warning: no-local-endpoints"),
])
def test_a_paste_opening_with_a_service_chains_jumps_leaves_others_unknown(tmp_path: Path, paste: str, first: int,
                                                                          last: int, service: str, shown: int,
                                                                          health: str) -> None:
    f = _cut(tmp_path, paste, first, last)
    assert "-A KUBE-SVC-" in Path(f).read_text().splitlines()[0]
    code, out, err = svcpath("--rules-file", f, "--all")
    assert code == 0, err
    row = next(r for r in out.splitlines() if r.startswith("default "))
    assert f" {shown}+? " in row and row.rstrip().endswith(health), out
    code, out, err = svcpath("--rules-file", f, service)
    assert code == 0, err
    flat = " ".join(out.split())
    assert f"{shown} endpoint{'s' if shown > 1 else ''} shown, any others not in the input" in flat, out
    assert "the paste opens with its endpoint jumps: rules above them, if any, were not copied" in flat, out
    assert "rules OK" not in flat and "100%" not in flat and "20%" not in flat, out


def test_a_line_above_the_jumps_shows_where_the_chain_starts(tmp_path: Path) -> None:
    # the kind grep from its KUBE-SERVICES lines on: the service chain's jumps follow another chain's rule
    f = _cut(tmp_path, "katacoda-kind-grep-xlb-local.txt", 9, 15)
    code, out, err = svcpath("--rules-file", f, "test-svc")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "2 endpoints" in flat and "any others not in the input" not in flat and "50%" in flat, out

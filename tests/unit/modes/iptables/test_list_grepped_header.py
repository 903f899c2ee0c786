"""`iptables -L -n | grep KUBE-EXT-…`: the chain's header and the rules of other chains that jump to it.

The header was taken for the start of the chain's listing, the lines after it for its rules: of the upstream
listing's ns2/svc2 (shared/dumps, the -L -n -v -x form) grepped for its external chain, "p80 ?/TCP → DROP (no local
endpoint)", "warning: no-local-endpoints", the chain's three callers read as its own rules. iptables -L always prints
the column heads under a chain's header: a header followed by anything else (a rule line, a command, another
header, the end) is grep output, and the chain's own rules are not in the input (found by tests/fuzz/cuts.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, SHARED, require_shared, svcpath

LISTING = "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt"
EXT = "KUBE-EXT-GNZBNJ2PO5MGZ6GT"


def _grep(tmp_path: Path, source: Path, word: str) -> str:
    f = tmp_path / "grep.txt"
    f.write_text("\n".join(line for line in source.read_text().splitlines() if word in line) + "\n")
    return str(f)


def test_a_grepped_chain_header_does_not_take_its_callers_for_its_rules(tmp_path: Path) -> None:
    require_shared()
    f = _grep(tmp_path, SHARED / "dumps" / LISTING, EXT)
    code, out, err = svcpath("--rules-file", f, "ns2/svc2", "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert "no-local-endpoints" not in [x["code"] for x in doc["findings"]]
    paths = doc["ports"][0]["paths"]
    assert {p["entry"] for p in paths} == {"externalIP", "loadBalancer", "nodePort"}  # (its callers, read as theirs)
    assert all(p["verdict"] == "not-in-input" for p in paths)
    code, out, _ = svcpath("--rules-file", f, "ns2/svc2")
    assert (f"chain {EXT}: its header without the column heads under it (grep output): its own rules are not in the "
            "input") in " ".join(out.split())


def test_a_header_followed_by_a_command_or_nothing_is_grep_output_too(tmp_path: Path) -> None:
    """A real walk (tests/corpus/apedano-kind-L-nv-line-numbers-lb-walk.txt) grepped for its external chain: the
    NodePort's jump to it, a prompt, the chain's header and nothing after: "warning: no-local-endpoints"."""
    f = _grep(tmp_path, ROOT / "tests" / "corpus" / "apedano-kind-L-nv-line-numbers-lb-walk.txt", "KUBE-EXT-L6225SIXICQL5TGT")
    code, out, err = svcpath("--rules-file", f, "--all")
    assert code == 0, err
    row = next(r for r in out.splitlines() if r.startswith("default "))
    assert " ".join(row.split()) == "default foo-service ? ? ?:32591 ? 5 ?: not in the input", out

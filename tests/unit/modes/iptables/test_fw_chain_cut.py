"""A KUBE-FW chain shown only down to its masquerade rule does not say where its traffic goes.

tests/corpus/tomasdedic-k3s-klipper-kube-fw-czech-notes.txt cut to its lines 9-13 (the author's notes, then
KUBE-FW-RVAFSEPDPUT7VZG7's first rule, "loadbalancer IP" -j KUBE-MARK-MASQ) with "..." after: kube-system/aabb read
"web ?/TCP -> 0 endpoints - rules OK", STATE "no endpoints", ENDPOINTS 0 and HEALTH ok. kube-proxy writes the
jumps on (to the external or service chain, per source range) after that rule; an excerpt that stops there shows
none of them (found by tests/fuzz/cuts.py --counts, seed 24).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

PASTE = Path(__file__).resolve().parents[3] / "corpus" / "tomasdedic-k3s-klipper-kube-fw-czech-notes.txt"


def test_a_firewall_chain_cut_after_its_masquerade_rule_leaves_the_endpoints_unknown(tmp_path: Path) -> None:
    lines = PASTE.read_text().splitlines()
    assert lines[12].startswith("-A KUBE-FW-RVAFSEPDPUT7VZG7 ") and lines[12].endswith("-j KUBE-MARK-MASQ")
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[8:13]) + "\n...\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0, err
    row = next(r for r in out.splitlines() if r.startswith("kube-system "))
    assert " ".join(row.split()).endswith("? - ?: not in the input"), out  # (ENDPOINTS "?", was "0 ... ok")
    code, out, err = svcpath("--rules-file", str(f), "aabb", "-n", "kube-system")
    assert code == 0, err
    assert "0 endpoints" not in out and "no endpoints" not in out and "rules OK" not in out, out
    assert "KUBE-FW-RVAFSEPDPUT7VZG7: in the input in part, the rule that sends its traffic on is not" in out, out

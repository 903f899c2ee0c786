"""`conntrack -L` as users paste it: under its command's prompt, conntrack's summary line after the flows
(kubernetes/kubernetes#125467, an EKS 1.29 node: `conntrack -p udp -L --src 10.103.83.53` and one UDP flow to the
cluster DNS). The command line made the listing 'not a rule dump this tool can read' while the hint named `conntrack
-L` among what it reads; the flows alone said 'input: no rules given'."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT, svcpath

FLOWS = """\
$ conntrack -p udp -L --src 10.103.83.53
udp      17 27 src=10.103.83.53 dst=172.20.0.10 sport=21667 dport=53 [UNREPLIED] src=10.103.78.37 dst=10.103.83.53 sport=53 dport=21667 mark=0 use=1
conntrack v1.4.4 (conntrack-tools): 1 flow entries have been shown.
"""
RULES = ROOT / "tests" / "corpus" / "maxidea-k8s118-S-walk-dnat-unsupported-revision.txt"


def test_a_pasted_conntrack_listing_beside_rules_is_read(tmp_path: Path) -> None:
    flows = tmp_path / "flows.txt"
    flows.write_text(FLOWS)
    code, out, err = svcpath("--rules-file", str(RULES), "--rules-file", str(flows), "--all")
    assert code == 0, err
    assert "not a rule dump" not in err


def test_flows_alone_say_what_to_pass(tmp_path: Path) -> None:
    for text in (FLOWS, FLOWS.splitlines()[1] + "\n"):
        flows = tmp_path / "flows.txt"
        flows.write_text(text)
        code, out, err = svcpath("--rules-file", str(flows), "--all")
        assert code == 8 and err.count("\n") == 2, (code, err)
        assert err.startswith(f"error: {flows}: `conntrack -L` flows only: they count connections beside the node's rules")
        assert "hint: pass the node's rules too: --rules-file RULES" in err and "no rules given" not in err

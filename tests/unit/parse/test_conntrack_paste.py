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


def test_flows_beside_iptables_rules_are_said(tmp_path: Path) -> None:
    """Read beside iptables mode's rules, the flows were said nowhere: the report was the same without them. Now a
    note says what they show of the Service (here the endpoint ports the host's older iptables did not print)."""
    flows = tmp_path / "flows.txt"
    flows.write_text("$ conntrack -L -d 10.102.176.227\n"
                     "tcp      6 86397 ESTABLISHED src=10.244.1.3 dst=10.102.176.227 sport=40312 dport=80 src=10.244.1.4 "
                     "dst=10.244.1.3 sport=80 dport=40312 [ASSURED] mark=0 use=1\n"
                     "tcp      6 117 TIME_WAIT src=10.244.1.3 dst=10.102.176.227 sport=40300 dport=80 src=10.244.3.4 "
                     "dst=10.244.1.3 sport=80 dport=40300 [ASSURED] mark=0 use=1\n")
    code, out, err = svcpath("default/test1", "--rules-file", str(RULES), "--rules-file", str(flows))
    assert code == 0, err
    assert (f"{flows}: `conntrack -L`: 2 flows to the Service's addresses, answered by 10.244.1.4:80, 10.244.3.4:80 "
            "(the connections tracked now, conntrack's view; the hops' counts are the rules' own counters, "
            "iptables-save -c)") in " ".join(out.split()), out

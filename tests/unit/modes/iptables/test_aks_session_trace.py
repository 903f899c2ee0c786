"""An AKS session kept as notes (VijayRod/demo, in tests/corpus): kubectl and az commands with their output, a grep of
one Service's rules, and `conntrack -L` with its flows. Read, and --trace'd from outside, as users run the plugin.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
SESSION = str(CORPUS / "vijayrod-aks-session-get-describe-az-grep-conntrack.txt")
SESSION_TEXT = Path(SESSION).read_text(encoding="utf-8")
TRACE = ("default/nginx", "--rules-file", SESSION, "--trace", "203.0.113.9", "--to", "20.240.25.37:80")


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_conntrack_output_among_rule_listings_is_another_commands() -> None:
    """`conntrack -L | grep 31148` and its flow line after the rules: refused at line 76 ('not an iptables-save line')."""
    out = _run("default/nginx", "--rules-file", SESSION)
    assert "type LoadBalancer  cluster IP 10.0.192.18  LB 20.240.25.37" in out


def test_conntrack_output_after_a_grep_is_left_out(tmp_path: Path) -> None:
    """The same, the grep's rules and the flows alone: the flows are another command's output, said so."""
    lines = SESSION_TEXT.splitlines()
    paste = tmp_path / "p.txt"
    paste.write_text("\n".join(lines[61:66] + lines[74:]) + "\n", encoding="utf-8")
    out = _run("default/nginx", "--rules-file", str(paste))
    assert "line 7 (`conntrack -L | grep 31148` output), line 9 (`conntrack -L -d 10.244.0.33` output)" in out


def test_masquerading_is_not_said_when_postrouting_is_not_in_the_input() -> None:
    """Neither nat POSTROUTING nor KUBE-POSTROUTING is in the grep: the delivered branch said 'source kept' and
    MASQUERADE 'no', though KUBE-EXT marks every packet from outside for masquerading (Cluster policy)."""
    out = _run(*TRACE)
    assert "source kept" not in out
    assert "nat POSTROUTING and KUBE-POSTROUTING are not in the input: whether the source is masqueraded is not known" in out
    row = next(line.split() for line in out.splitlines() if "delivered" in line and "10.244.0.33:80" in line)
    assert row[-2:] == ["not", "evaluated"], row


def test_kube_proxys_mark_chains_left_out_of_a_grep_mark_and_return() -> None:
    """KUBE-EXT's '-j KUBE-MARK-MASQ' (the chain not in the grep) forked a branch 'unknown: chain nat KUBE-MARK-MASQ is
    not in the input -> stops here' beside the one that went on."""
    out = _run(*TRACE)
    assert "KUBE-MARK-MASQ is not in the input" not in out and "stops here" not in out
    assert "-j KUBE-MARK-MASQ (not in the input: kube-proxy's, marks the packet and returns)" in out
    assert out.count("\nBranch ") == 3, out

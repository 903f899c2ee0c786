"""The author's arrows after the rules of a pasted grep walk (an OpenShift 4 post, tests/corpus/semperti-ocp4-*):
">> [1]" after each KUBE-SERVICES rule, ">> 1" … ">> 6" after a service chain's jumps, the same jumps printed again
by each endpoint's grep with the arrow further right. Before: the paste was refused ("unexpected word '>>'", exit 8);
read without the arrows, each jump printed twice was two rules of one chain (no share), the cluster IP rule two
ways in, and an earlier grep whose output the author took from another grep was dropped as an "earlier moment".
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath, svcpath_on

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
GREP = str(CORPUS / "semperti-ocp4-grep-dns-default-arrow-notes.txt")
WALK = str(CORPUS / "semperti-ocp4-md-grep-walk-dns-default-arrow-notes.txt")
ENDPOINTS = ["10.254.0.92", "10.254.1.115", "10.254.2.131", "10.254.3.114", "10.254.4.74", "10.254.6.95"]


def test_numbered_arrows_after_rules_are_the_authors() -> None:
    code, out, err = svcpath("--all", "--rules-file", GREP)
    assert code == 0, err
    row = out.splitlines()[1].split()
    assert row[:2] == ["openshift-dns", "dns-default"] and "53/UDP,53,9153" in row, out
    assert "the author's marks (arrows before, Markdown emphasis, '//', '<--' or '>>' notes after) on lines 3, 5, 7" in out, out


def test_a_walk_with_arrows_reads_each_rule_once() -> None:
    code, out, err = svcpath("openshift-dns/dns-default", "--port", "dns", "--rules-file", WALK, "-o", "json")
    assert code == 0, err
    paths = json.loads(out)["ports"][0]["paths"]
    assert [(p["entry"], p["address"]) for p in paths] == [("clusterIP", "172.30.0.10")], paths
    hops = [(e["ip"], e["port"], round(e["probability"], 3)) for e in paths[0]["endpoints"]]
    assert hops == [(ip, 5353, 0.167) for ip in ENDPOINTS], hops
    text = svcpath("openshift-dns/dns-default", "--port", "dns", "--rules-file", WALK)[1]
    assert text.splitlines()[0].startswith("dns 53/UDP → 6 endpoints (state not in the input)"), text
    assert "was run more than once" not in text, text


def test_a_grep_over_another_greps_output_is_no_earlier_moment(tmp_path: Path) -> None:
    """`grep KUBE-SEP-B` printed (as pasted) KUBE-SEP-A's lines, none holding its word; the same grep again later
    printed B's: both outputs are read (A's endpoint was dropped as "the output of its earlier run")."""
    svc = "KUBE-SVC-BGNS3J6UB7MMLVDO"
    paste = "\n".join([
        f"[root@worker1 ~]# iptables-save | grep {svc}",
        f":{svc} - [0:0]",
        f"-A {svc} -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA",
        f"-A {svc} -j KUBE-SEP-BBBBBBBBBBBBBBBB",
        "[root@worker1 ~]# iptables-save | grep KUBE-SEP-BBBBBBBBBBBBBBBB",
        "-A KUBE-SEP-AAAAAAAAAAAAAAAA -p udp -m udp -j DNAT --to-destination 10.254.1.115:5353",
        "[root@worker1 ~]# iptables-save | grep KUBE-SEP-BBBBBBBBBBBBBBBB",
        "-A KUBE-SEP-BBBBBBBBBBBBBBBB -p udp -m udp -j DNAT --to-destination 10.254.6.95:5353",
        "[root@worker1 ~]#", ""])
    code, out, err = svcpath_on(tmp_path, paste, svc, "-o", "json")
    assert code == 0, err
    hops = [(e["ip"], e["probability"]) for e in json.loads(out)["ports"][0]["paths"][0]["endpoints"]]
    assert hops == [("10.254.1.115", 0.5), ("10.254.6.95", 0.5)], hops

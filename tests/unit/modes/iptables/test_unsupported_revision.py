"""iptables older than kube-proxy's prints ``-j DNAT [unsupported revision]`` in place of the DNAT's options
(kubernetes#95409: Ubuntu 18.04's iptables 1.6.1 under kube-proxy 1.17; #94754: 1.19 on Azure,
``-A KUBE-SEP-FRUH4FMRRHR5RCGV -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT [unsupported
revision]``). Such a paste was refused ("unexpected word '[unsupported'", exit 8); now the rule is read, its destination
not in the input, and the report says why and where to list it instead.

And a trace through a part of the nat table that lacks KUBE-SERVICES (one service chain listed, a grep of endpoint
chains) said "no Service rule matched: not a Service address on this node" of the Service's own cluster IP."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath, svcpath_on

CORPUS = ROOT / "tests" / "corpus"
ISSUE_94754 = (
    '-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https" -j KUBE-SEP-FRUH4FMRRHR5RCGV\n'
    '-A KUBE-SEP-FRUH4FMRRHR5RCGV -s 10.0.0.4/32 -m comment --comment "default/kubernetes:https" -j KUBE-MARK-MASQ\n'
    '-A KUBE-SEP-FRUH4FMRRHR5RCGV -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT '
    "[unsupported revision]\n")


def test_a_dnat_printed_unsupported_revision_is_read_its_destination_unknown(tmp_path: Path) -> None:
    code, out, err = svcpath_on(tmp_path, ISSUE_94754, "default/kubernetes")
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("endpoint port: not in the input (the DNAT rule of KUBE-SEP-FRUH4FMRRHR5RCGV shows no destination: the "
            "iptables that listed it printed '[unsupported revision]' in place of the destination, being older than the "
            "one kube-proxy wrote it with (list it in the kube-proxy pod: iptables-save); the address is the source of "
            "its hairpin rule, the one jumping to KUBE-MARK-MASQ)") in flat
    assert "10.0.0.4:?" in out and "?:?" not in out and "rules OK" not in out


def test_the_issue_paste_is_read_not_refused() -> None:
    code, out, err = svcpath("--rules-file", str(CORPUS / "k8s-95409-iptables-save-dnat-unsupported-revision.txt"), "--all")
    assert code == 0, err
    assert "unexpected word" not in err and "Traceback" not in err


def test_a_trace_without_kube_services_is_unknown_not_no_service() -> None:
    paste = str(CORPUS / "dkspace-minikube-svc-chain-list-nv.txt")  # one KUBE-SVC chain listed by -L
    code, out, err = svcpath("default/web-svc-cip", "--rules-file", paste, "--trace", "10.244.7.7")
    assert code == 0, err
    assert "not a Service address" not in out
    assert "Verdict:  unknown: nat PREROUTING and kube-proxy's KUBE-SERVICES are not in the input" in out


# the same chains as `iptables -t nat -L -n -v` prints them: the older iptables prints the DNAT's description as
# "DNAT [unsupported revision]" where a current one prints "to:10.0.0.4:6443" (kubernetes#95409's host; miniupnp#837:
# iptables 1.8.10's '-xnvL': "6 -- * * 0.0.0.0/0 0.0.0.0/0 tcp dpt:22467 DNAT [unsupported revision]")
ISSUE_94754_LISTED = """\
Chain KUBE-SVC-NPX46M4PTMTKRN6Y (1 references)
 pkts bytes target     prot opt in     out     source               destination
    0     0 KUBE-SEP-FRUH4FMRRHR5RCGV  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/kubernetes:https */

Chain KUBE-SEP-FRUH4FMRRHR5RCGV (1 references)
 pkts bytes target     prot opt in     out     source               destination
    0     0 KUBE-MARK-MASQ  all  --  *      *       10.0.0.4             0.0.0.0/0            /* default/kubernetes:https */
    0     0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/kubernetes:https */ tcp DNAT [unsupported revision]
"""


def test_a_listed_dnat_printed_unsupported_revision_says_why_its_destination_is_unknown(tmp_path: Path) -> None:
    # it said "nft prints iptables-nft's DNAT as 'xt target "DNAT"' without it, or the listing was cut"
    code, out, err = svcpath_on(tmp_path, ISSUE_94754_LISTED, "default/kubernetes")
    assert code == 0, err
    flat = " ".join(out.split())
    assert ("endpoint port: not in the input (the DNAT rule of KUBE-SEP-FRUH4FMRRHR5RCGV shows no destination: the "
            "iptables that listed it printed '[unsupported revision]' in place of the destination, being older than the "
            "one kube-proxy wrote it with (list it in the kube-proxy pod: iptables-save); the address is the source of "
            "its hairpin rule, the one jumping to KUBE-MARK-MASQ)") in flat
    assert "xt target" not in flat and "10.0.0.4:?" in out


MAXIDEA = str(CORPUS / "maxidea-k8s118-S-walk-dnat-unsupported-revision.txt")  # three `# iptables -t nat -S` runs


def test_the_endpoint_address_is_its_hairpin_rules_source() -> None:
    """maxidea-com/k8s-testing (kept in tests/corpus): '-A KUBE-SEP-M4LMZLRGTFEOZERX -s 10.244.1.4/32 … -j KUBE-MARK-MASQ'
    above its '-j DNAT [unsupported revision]'. The report said '?:?' and 'endpoint address: not in the input' of an
    address the paste shows; the port is what is not in it."""
    code, out, err = svcpath("default/test1", "--rules-file", MAXIDEA)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "10.244.1.4:?" in out and "endpoint address" not in flat, out
    assert "endpoint port: not in the input (the DNAT rule of KUBE-SEP-M4LMZLRGTFEOZERX shows no destination" in flat
    code, out, err = svcpath("default/test1", "--rules-file", MAXIDEA, "-o", "json")
    hops = [e for port in json.loads(out)["ports"] for p in port["paths"] for e in p["endpoints"]]
    assert [(e["ip"], e["port"]) for e in hops] == [("10.244.1.4", None), (None, None), (None, None)], hops


def test_a_trace_to_a_dnat_without_destination_says_so() -> None:
    """The trace said 'DNAT to None' and 'why: DNAT to a range (None) is not followed'."""
    code, out, err = svcpath("default/test1", "--rules-file", MAXIDEA, "--trace", "10.244.1.3")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "None" not in out and "range" not in out, out
    assert ("why: where this DNAT sends the packet is not in the input: the iptables that listed it printed "
            "'[unsupported revision]' in place of it") in flat, out
    assert "nat KUBE-SEP-M4LMZLRGTFEOZERX #2 DNAT (its destination is not in the input)" in flat, out


def test_a_whole_service_chain_to_such_an_endpoint_is_unknown_not_ok(tmp_path: Path) -> None:
    """Its address seen, its port not: the verdict says which (it was 'where its endpoints send traffic')."""
    code, out, err = svcpath_on(tmp_path, "-N KUBE-SVC-NPX46M4PTMTKRN6Y\n-N KUBE-SEP-FRUH4FMRRHR5RCGV\n" + ISSUE_94754,
                                "default/kubernetes")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "→ 1 endpoint (state not in the input), counters not in the input — UNKNOWN (the port its endpoints' DNAT " \
           "sends to is not in the input)" in flat, out
    code, out, err = svcpath_on(tmp_path, "-N KUBE-SVC-NPX46M4PTMTKRN6Y\n-N KUBE-SEP-FRUH4FMRRHR5RCGV\n" + ISSUE_94754, "--all")
    assert code == 0 and out.splitlines()[1].endswith("?: not in the input"), out

"""iptables older than kube-proxy's prints ``-j DNAT [unsupported revision]`` in place of the DNAT's options
(kubernetes#95409: Ubuntu 18.04's iptables 1.6.1 under kube-proxy 1.17; #94754: 1.19 on Azure,
``-A KUBE-SEP-FRUH4FMRRHR5RCGV -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT [unsupported
revision]``). Such a paste was refused ("unexpected word '[unsupported'", exit 8); now the rule is read, its destination
not in the input, and the report says why and where to list it instead.

And a trace through a part of the nat table that lacks KUBE-SERVICES (one service chain listed, a grep of endpoint
chains) said "no Service rule matched: not a Service address on this node" of the Service's own cluster IP."""

from __future__ import annotations

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
    assert ("endpoint address: not in the input (the DNAT rule of KUBE-SEP-FRUH4FMRRHR5RCGV shows no address: the "
            "iptables that listed it printed '[unsupported revision]' in place of the destination, being older than the "
            "one kube-proxy wrote it with (list it in the kube-proxy pod: iptables-save))") in flat
    assert "?:?" in out and "rules OK" not in out


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
    assert ("endpoint address: not in the input (the DNAT rule of KUBE-SEP-FRUH4FMRRHR5RCGV shows no address: the "
            "iptables that listed it printed '[unsupported revision]' in place of the destination, being older than the "
            "one kube-proxy wrote it with (list it in the kube-proxy pod: iptables-save))") in flat
    assert "xt target" not in flat and "?:?" in out

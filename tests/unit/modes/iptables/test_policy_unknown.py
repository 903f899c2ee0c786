"""Dump-only traffic policies say only what the rules show (pastes8's concern, fixed for nftables earlier).

internalTrafficPolicy was "Cluster" whenever a cluster IP jumped to KUBE-SVC. kube-proxy 1.21-1.23 wrote
internalTrafficPolicy Local as that same jump, to a KUBE-SVC chain of the node's own endpoints (KUBE-SVL
came in 1.24), so in a layout that does not show its release the jump tells nothing: a real kubeadm 1.22
dump (pradeepgadde/blog) said "Cluster" for every Service. A port with no endpoints (a filter REJECT
alone, a KUBE-SVC chain without jumps) gives no policy either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
SVC, EXT = "KUBE-SVC-CDGGSHYLG3RE2FKL", "KUBE-EXT-CDGGSHYLG3RE2FKL"  # default/web:http, tcp
NODEPORTS_JUMP = ('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule '
                  'in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n')
CLUSTER_IP = f'-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j {SVC}\n'
SVC_MASQ = (f'-A {SVC} ! -s 10.244.0.0/16 -d 10.96.0.50/32 -p tcp -m comment --comment "default/web:http cluster IP" '
            "-m tcp --dport 80 -j KUBE-MARK-MASQ\n")


def _policies(path: Path | str, service: str = "default/web") -> tuple[str | None, str | None]:
    code, out, err = svcpath(service, "--rules-file", str(path), "-o", "json")
    assert code in (0, 3), err
    doc = json.loads(out)["service"]
    return doc["externalTrafficPolicy"], doc["internalTrafficPolicy"]


def test_a_1_22_dump_does_not_show_the_internal_policy() -> None:
    """The whole save of a kubeadm 1.22.8 node: the jump to KUBE-SVC is what both policies wrote then."""
    paste = CORPUS / "pradeepgadde-k8s1-iptables-save-whole.txt"
    assert _policies(paste, "default/my-nginx-svc") == (None, None)
    out = svcpath("default/my-nginx-svc", "--rules-file", str(paste))[1]
    assert "Unknown:  internalTrafficPolicy: not in the input" in out, out


@pytest.mark.parametrize("nat", [
    f":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:{SVC} - [0:0]\n" + CLUSTER_IP + NODEPORTS_JUMP + SVC_MASQ,
    ":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n" + NODEPORTS_JUMP,
], ids=["service-chain-without-jumps", "filter-reject-only"])
def test_a_port_without_endpoints_has_no_policy(tmp_path: Path, nat: str) -> None:
    paste = tmp_path / "save.txt"
    paste.write_text("*filter\n:KUBE-SERVICES - [0:0]\n:KUBE-EXTERNAL-SERVICES - [0:0]\n"
                     '-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "default/web:http has no endpoints" '
                     "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n*nat\n" + nat + "COMMIT\n")
    assert _policies(paste) == (None, None)


def test_a_1_24_layout_shows_both(tmp_path: Path) -> None:
    """KUBE-EXT chains (1.24+): a jump to KUBE-SVC is Cluster (Local jumps to KUBE-SVL); the external chain's
    masquerade rule is externalTrafficPolicy Cluster, also when the service chain has no endpoint."""
    paste = tmp_path / "save.txt"
    paste.write_text(f"*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n:{SVC} - [0:0]\n:{EXT} - [0:0]\n"
                     f'-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j {EXT}\n'
                     + CLUSTER_IP + NODEPORTS_JUMP
                     + f'-A {EXT} -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ\n'
                     f"-A {EXT} -j {SVC}\n" + SVC_MASQ + "COMMIT\n")
    assert _policies(paste) == ("Cluster", "Cluster")

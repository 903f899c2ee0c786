"""--trace outside: a client elsewhere never sends from one of this node's addresses.

kube-proxy's KUBE-EXT chain masquerades traffic whose source is local (`-m addrtype --src-type LOCAL`);
tracing from "outside" forked there on "is outside (address not given) a local address of the node?
(give --node-ip)", a question the source itself answers (and --node-ip cannot), doubling the branches.
"""

from __future__ import annotations

import json

from tests.conftest import svcpath
from tests.lab.kpgen import PortSpec, ProxyConfig, ServiceSpec, api_objects, save_text

NODE_IP = "172.18.0.2"


def test_outside_is_not_a_local_address_of_the_node(tmp_path):
    svc = ServiceSpec("shop", "loc", "10.96.0.40", [PortSpec("http", 80, 8080, node_port=30080)], endpoints=["10.244.2.10"],
                      type="NodePort", external_traffic_policy="Local")
    (tmp_path / "nat.txt").write_text(save_text([svc], ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True)))
    (tmp_path / "svc.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                                   "items": api_objects(svc, node_of={"10.244.2.10": "w1"})}))

    code, out, err = svcpath("loc", "-n", "shop", "--rules-file", str(tmp_path / "nat.txt"), "--manifest",
                             str(tmp_path / "svc.json"), "--node", "w1", "--trace", "outside", "--to",
                             f"{NODE_IP}:30080", "--node-ip", NODE_IP, "-o", "wide")

    assert code == 0, err
    assert "a local address of the node" not in out, out
    assert "Verdict:  delivered to 10.244.2.10:8080" in out, out


def test_outside_is_no_pod_and_no_endpoint_the_seed_example_answers_in_one_branch():
    """The seed's cluster IP rule masquerades `! -s 192.168.0.0/16` (kube-proxy's pod range) and each
    endpoint chain its own address: a client outside the cluster is neither, so the rules decide. The
    trace asked "is it not in 192.168.0.0/16?" and "is it in 192.168.189.15/32?" and answered each
    port in 4 branches of unknown share."""
    code, out, err = svcpath("--example", "--trace", "outside")

    assert code == 0, err
    assert "is it not in 192.168.0.0/16?" not in out and "is it in 192.168.189.15/32?" not in out
    assert "rules that match the source address fork" not in out
    for port, chain in ((9090, "KUBE-SVC-R4PDB35TUPNR4CEW"), (9191, "KUBE-SVC-P73F5K5MMQHXGZV7")):
        assert (f"Branch 1: delivered -> 192.168.189.15:{port}, 100% of new connections, source masqueraded "
                f"(marked by nat {chain} #1)") in out
    assert "Branch 2" not in out
    assert ("Note:     outside: a client outside the cluster is not in 192.168.0.0/16 (the pod range kube-proxy's "
            "rules give the cluster): decided, not forked") in out


def test_outside_decides_the_pod_short_circuit_in_nftables_but_not_a_source_range():
    """nftables, externalTrafficPolicy Local on a node without a local endpoint: the external chain's
    `ip saddr 10.0.0.0/8 goto service-…` (short-circuit pod traffic) is not taken by a client outside
    the cluster, so it is dropped (was: "depends: delivered in 2 branches, dropped in 1 branch").
    A loadBalancerSourceRanges allow-list is the client's address to decide: that fork stays."""
    from tests.conftest import DUMPS, require_shared

    require_shared()
    nft = str(DUMPS / "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt")
    code, out, err = svcpath("--rules-file", nft, "ns2/svc2", "--trace", "outside", "--to", "192.168.99.22:80")
    assert code == 0, err
    assert "Verdict:  dropped by ip kube-proxy service-endpoints-check #1" in out, out
    assert "is it in 10.0.0.0/8?" not in out

    ipt = str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt")
    code, out, err = svcpath("--rules-file", ipt, "ns5/svc5", "--trace", "outside", "--to", "5.6.7.8:80", "-o", "wide")
    assert code == 0, err
    assert "is it in 203.0.113.0/25?" in out and "Verdict:  depends: delivered in 2 branches, dropped in 2 branches" in out
    assert "is it not in 10.0.0.0/8?" not in out

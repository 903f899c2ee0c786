"""Live mode picks the reader of the node's proxy mode: nftables, end to end.

kube-proxy's ConfigMap says `mode: nftables`; the node namespace holds kube-proxy's nftables table
(loaded with nft -f) and the products pod; the installed plugin reads it through the fake API's
WebSocket exec with `nft -j list table ip kube-proxy`, and nothing else runs.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.lab import kpgen
from tests.lab.nftgen import NftPort, NftService, generate
from tests.live.conftest import Scenario

pytestmark = [pytest.mark.lab, pytest.mark.api]

CIP, POD = "10.101.173.15", "192.168.189.15"
HELLO = NftService("default", "hello-service", CIP,
                   [NftPort("port-v1", 39090, 9090, node_port=30725), NftPort("port-v2", 49191, 9191, node_port=31576)],
                   endpoints=[POD])


def test_live_nftables_mode_reads_kube_proxys_table(scenario: Scenario) -> None:
    node = scenario.node("cp01")
    scenario.lab.add_pod(node, "products", POD, ports=[9090, 9191])
    scenario.lab.load_nft(node, generate([HELLO], node_ips=[node.ip], pod_cidr="192.168.0.0/16", service_cidr="10.96.0.0/12"))
    scenario.cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD: "cp01"}))
    scenario.cluster.set_proxy_config("nftables")
    assert scenario.lab.connect(node, CIP, 39090, n=2) == [f"products {POD}:9090"] * 2  # traffic really flows
    scenario.snapshot_rules()

    r = run_cli("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))

    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["proxyMode"] == "nftables" and doc["node"] == "cp01"
    v1 = next(p for p in doc["ports"] if p["name"] == "port-v1")
    cluster_ip = next(p for p in v1["paths"] if p["entry"] == "clusterIP")
    assert cluster_ip["chains"][:2] == ["services", "service-ips"]
    assert cluster_ip["chains"][-1] == "service-EDISM5FW-default/hello-service/tcp/port-v1"  # kube-proxy's hash of the name
    assert [(e["ip"], e["port"], e["probability"], e["inSlices"]) for e in cluster_ip["endpoints"]] == [(POD, 9090, 1.0, True)]
    assert cluster_ip["packets"] is None  # kube-proxy's nftables rules carry no counters, and the report says so
    assert "no-counters-nftables" in {f["code"] for f in doc["findings"]}
    scenario.assert_read_only({("nft", "-j", "list", "table", "ip", "kube-proxy")})


def test_nftables_mode_configured_as_iptables_is_read_as_the_rules_show_it(scenario: Scenario) -> None:
    """The ConfigMap says iptables, kube-proxy's pod still runs nftables mode (started before it changed): the save
    holds only the kubelet's chains, and every port was UNKNOWN ('entry rule: not in the input'). A save without a
    Service has kube-proxy's nftables table listed beside it, and the node is read in the mode whose rules hold the
    Services, a note saying the two disagree."""
    node = scenario.node("cp01", "*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\n"
                                 "COMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-KUBELET-CANARY - [0:0]\nCOMMIT\n")
    scenario.lab.add_pod(node, "products", POD, ports=[9090, 9191])
    scenario.lab.load_nft(node, generate([HELLO], node_ips=[node.ip], pod_cidr="192.168.0.0/16", service_cidr="10.96.0.0/12"))
    scenario.cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={POD: "cp01"}))
    scenario.cluster.set_proxy_config("iptables")
    scenario.snapshot_rules()

    r = run_cli("hello-service", "--kubeconfig", str(scenario.kubeconfig()), env={"COLUMNS": "300"})

    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("port-v1 39090/TCP → 1 of 1 endpoint (ready)"), r.stdout
    assert "Rules:    nftables (nf_tables) mode, node cp01" in r.stdout
    assert ('Note:     ConfigMap kube-system/kube-proxy key config.conf says proxy mode "iptables", but the node\'s iptables '
            "rules hold no Service and its nftables rules do: read as nftables mode (kube-proxy takes its mode when it "
            "starts: a pod started before the configuration changed keeps its own)") in r.stdout
    scenario.assert_read_only({("iptables-save", "-c"), ("nft", "-j", "list", "table", "ip", "kube-proxy")})

"""--trace in nftables mode against the kernel: kube-proxy's table loaded with nft, real connections.

The same four verdict kinds as the iptables lab (delivered via cluster IP and via NodePort from
outside with masquerade, rejected for no endpoints, dropped for externalTrafficPolicy Local
without a local endpoint, dropped by loadBalancerSourceRanges), with kube-proxy's nftables layout
(tests/lab/nftgen.py). kube-proxy's nft rules carry no counters: the kernel's side is the
reply, the refusal or the silence, and the conntrack entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.lab.netns import Lab
from tests.lab.nftgen import NftPort, NftService, generate
from tests.lab.trace.topology import NODE_IP, conntrack, web_node

pytestmark = pytest.mark.lab

WEB = NftService("default", "web", "10.96.0.10", [NftPort("http", 80, 8080, node_port=30080)], endpoints=["10.244.1.5"])
EMPTY = NftService("default", "empty", "10.96.0.11", [NftPort("http", 80, 8080)], endpoints=[])
LOCAL = NftService("default", "local", "10.96.0.12", [NftPort("http", 80, 8080, node_port=30081)],
                   endpoints=["10.244.9.9"], local_endpoints=[], etp_local=True)
LB = NftService("default", "lb", "10.96.0.13", [NftPort("http", 80, 8080, node_port=30082)], endpoints=["10.244.1.5"],
                lb_ips=["192.0.2.50"], source_ranges=["198.51.100.0/24"])


@pytest.fixture
def cluster(lab: Lab, tmp_path: Path):
    node, client, outside = web_node(lab)
    lab.load_nft(node, generate([WEB, EMPTY, LOCAL, LB], node_ips=[NODE_IP], pod_cidr="10.0.0.0/8",
                                service_cidr="10.96.0.0/16"))
    return lab, node, client, outside, tmp_path


def trace(lab: Lab, node, tmp: Path, service: str, source: str, to: str) -> dict:
    dump = tmp / "nft.json"
    dump.write_text(lab.run(node, ["nft", "-j", "list", "table", "ip", "kube-proxy"]).stdout)
    r = run_cli(f"default/{service}", "--rules-file", str(dump), "--trace", source, "--to", to, "--node-ip", NODE_IP, "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["proxyMode"] == "nftables"
    return doc["traces"][0]


def test_delivered_via_cluster_ip_and_node_port(cluster):
    lab, node, client, outside, tmp = cluster
    assert lab.connect(client, "10.96.0.10", 80) == ["web-0 10.244.1.5:8080"]
    t = trace(lab, node, tmp, "web", "10.244.1.9", "10.96.0.10:80")
    assert t["verdict"] == "delivered"
    assert [(b["endpoint"]["ip"], b["masquerade"]) for b in t["branches"]] == [("10.244.1.5", False)]
    assert "src=10.244.1.5 dst=10.244.1.9" in conntrack(lab, node, 80)

    assert lab.connect(outside, NODE_IP, 30080) == ["web-0 10.244.1.5:8080"]
    t = trace(lab, node, tmp, "web", "203.0.113.9", f"{NODE_IP}:30080")
    assert t["verdict"] == "delivered"
    b = t["branches"][0]
    assert b["endpoint"]["ip"] == "10.244.1.5" and b["masquerade"] is True
    assert "mark-for-masquerade" in b["masqueradeBecause"]["action"]
    assert f"src=10.244.1.5 dst={NODE_IP}" in conntrack(lab, node, 30080)  # masqueraded by the kernel too


def test_rejected_and_dropped(cluster):
    lab, node, client, outside, tmp = cluster
    assert lab.connect(client, "10.96.0.11", 80) == ["refused"]
    t = trace(lab, node, tmp, "empty", "10.244.1.9", "10.96.0.11:80")
    assert t["verdict"] == "rejected" and t["branches"][0]["verdictRule"]["action"] == "reject"

    assert lab.connect(outside, NODE_IP, 30081, timeout=1.0) == ["timeout"]
    t = trace(lab, node, tmp, "local", "203.0.113.9", f"{NODE_IP}:30081")
    assert t["verdict"] == "dropped"
    assert "nodeport-endpoints-check" in t["branches"][0]["verdictRule"]["where"]

    assert lab.connect(outside, "192.0.2.50", 80, timeout=1.0) == ["timeout"]
    t = trace(lab, node, tmp, "lb", "203.0.113.9", "192.0.2.50:80")
    assert t["verdict"] == "dropped"
    assert t["branches"][0]["verdictRule"]["where"].startswith("ip kube-proxy firewall-")


def test_load_balancer_source_range_lets_its_clients_in(cluster):
    lab, node, _, _, tmp = cluster
    allowed = lab.add_pod(node, "office", "198.51.100.7")
    assert lab.connect(allowed, "192.0.2.50", 80) == ["web-0 10.244.1.5:8080"]
    t = trace(lab, node, tmp, "lb", "198.51.100.7", "192.0.2.50:80")
    assert t["verdict"] == "delivered" and {b["endpoint"]["ip"] for b in t["branches"]} == {"10.244.1.5"}

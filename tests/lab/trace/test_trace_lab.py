"""--trace against the kernel: the verdict and endpoints it names are what netfilter did.

One node namespace carries kube-proxy's rules for four Services (kpgen, as kube-proxy writes
them, with the built-in jumps); a pod, a client pod and a client "outside" the cluster
(203.0.113.9, wired like a pod but outside the cluster CIDR) send real connections. For each
verdict kind the trace of the same packet (from `iptables-save -c` of the node, read by the
CLI as users run it) must name what the kernel did: the reply or the refusal, the conntrack
entry (DNAT target, masquerade), and the counters of the rules the trace names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.lab import kpgen
from tests.lab.netns import Lab
from tests.lab.trace.topology import NODE_IP, conntrack, web_node

pytestmark = pytest.mark.lab

WEB = kpgen.ServiceSpec("default", "web", "10.96.0.10", [kpgen.PortSpec("http", 80, 8080, node_port=30080)],
                        endpoints=["10.244.1.5"], type="NodePort")
EMPTY = kpgen.ServiceSpec("default", "empty", "10.96.0.11", [kpgen.PortSpec("http", 80, 8080)], endpoints=[])
LOCAL = kpgen.ServiceSpec("default", "local", "10.96.0.12", [kpgen.PortSpec("http", 80, 8080, node_port=30081)],
                          endpoints=["10.244.9.9"], local_endpoints=set(), type="NodePort",
                          external_traffic_policy="Local", health_check_node_port=32001)
LB = kpgen.ServiceSpec("default", "lb", "10.96.0.13", [kpgen.PortSpec("http", 80, 8080, node_port=30082)],
                       endpoints=["10.244.1.5"], type="LoadBalancer", lb_ips=["192.0.2.50"],
                       source_ranges=["198.51.100.0/24"])


@pytest.fixture
def cluster(lab: Lab, tmp_path: Path):
    node, client, outside = web_node(lab)
    lab.load_iptables(node, kpgen.generate([WEB, EMPTY, LOCAL, LB], kpgen.ProxyConfig(jumps=True)))
    objects = []
    for svc in (WEB, EMPTY, LOCAL, LB):
        objects += kpgen.api_objects(svc, node_of={"10.244.1.5": "cp01", "10.244.9.9": "other"})
    manifest = tmp_path / "objects.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return lab, node, client, outside, manifest, tmp_path


def trace(lab: Lab, node, manifest: Path, tmp: Path, service: str, source: str, to: str) -> dict:
    dump = tmp / "save.txt"
    dump.write_text(lab.save(node))
    r = run_cli(service, "--rules-file", str(dump), "--manifest", str(manifest), "--trace", source, "--to", to,
                "--node-ip", NODE_IP, "-o", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["traces"][0]


def counters(lab: Lab, node) -> dict[str, int]:
    """'table chain #n' -> packets, from iptables-save -c."""
    out: dict[str, int] = {}
    table = ""
    seen: dict[tuple[str, str], int] = {}
    for line in lab.save(node).splitlines():
        if line.startswith("*"):
            table = line[1:]
        m = re.match(r"^\[(\d+):\d+\] -A (\S+) ", line)
        if m:
            key = (table, m.group(2))
            seen[key] = seen.get(key, 0) + 1
            out[f"{table} {m.group(2)} #{seen[key]}"] = int(m.group(1))
    return out


def _verdict_rule_grew(before: dict[str, int], after: dict[str, int], branch: dict) -> str:
    where = branch["verdictRule"]["where"]
    assert after[where] > before.get(where, 0), f"the kernel did not count {where}"
    return where


def test_delivered_via_cluster_ip_from_a_pod(cluster):
    lab, node, client, _, manifest, tmp = cluster
    before = counters(lab, node)
    assert lab.connect(client, "10.96.0.10", 80) == ["web-0 10.244.1.5:8080"]
    t = trace(lab, node, manifest, tmp, "web", "10.244.1.9", "10.96.0.10:80")
    assert t["verdict"] == "delivered"
    assert {(b["endpoint"]["ip"], b["endpoint"]["port"]) for b in t["branches"]} == {("10.244.1.5", 8080)}
    branch = t["branches"][0]
    assert branch["masquerade"] is False  # a pod inside the cluster CIDR keeps its address
    ct = conntrack(lab, node, 80)
    assert "src=10.244.1.5 dst=10.244.1.9" in ct  # the reply goes to the client itself: not masqueraded
    after = counters(lab, node)
    for step in branch["steps"]:  # every rule the trace names counted the connection
        if step["ref"].startswith(str(tmp)) and step["where"] in after:
            assert after[step["where"]] > before.get(step["where"], 0), step


def test_delivered_via_node_port_from_outside_and_masqueraded(cluster):
    lab, node, _, outside, manifest, tmp = cluster
    before = counters(lab, node)
    assert lab.connect(outside, NODE_IP, 30080) == ["web-0 10.244.1.5:8080"]
    t = trace(lab, node, manifest, tmp, "web", "203.0.113.9", f"{NODE_IP}:30080")
    assert t["verdict"] == "delivered"
    assert {b["endpoint"]["ip"] for b in t["branches"]} == {"10.244.1.5"}
    branch = t["branches"][0]
    assert branch["masquerade"] is True and branch["masqueradeBecause"]["where"].startswith("nat KUBE-EXT-")
    ct = conntrack(lab, node, 30080)
    assert f"src=10.244.1.5 dst={NODE_IP}" in ct  # the kernel masqueraded: the pod answers the node
    after = counters(lab, node)
    masq = next(s for s in branch["steps"] if s["action"] == "MASQUERADE")
    assert after[masq["where"]] > before.get(masq["where"], 0)


def test_rejected_for_no_endpoints(cluster):
    lab, node, client, _, manifest, tmp = cluster
    before = counters(lab, node)
    assert lab.connect(client, "10.96.0.11", 80) == ["refused"]
    t = trace(lab, node, manifest, tmp, "empty", "10.244.1.9", "10.96.0.11:80")
    assert t["verdict"] == "rejected"
    assert {b["endpoint"] for b in t["branches"]} == {None}
    where = _verdict_rule_grew(before, counters(lab, node), t["branches"][0])
    assert where.startswith("filter KUBE-SERVICES")


def test_dropped_for_local_policy_without_local_endpoint(cluster):
    lab, node, _, outside, manifest, tmp = cluster
    before = counters(lab, node)
    assert lab.connect(outside, NODE_IP, 30081, timeout=1.0) == ["timeout"]
    t = trace(lab, node, manifest, tmp, "local", "203.0.113.9", f"{NODE_IP}:30081")
    assert t["verdict"] == "dropped"
    where = _verdict_rule_grew(before, counters(lab, node), t["branches"][0])
    assert where.startswith("filter KUBE-EXTERNAL-SERVICES")


def test_dropped_by_load_balancer_source_ranges(cluster):
    lab, node, _, outside, manifest, tmp = cluster
    before = counters(lab, node)
    assert lab.connect(outside, "192.0.2.50", 80, timeout=1.0) == ["timeout"]
    t = trace(lab, node, manifest, tmp, "lb", "203.0.113.9", "192.0.2.50:80")
    assert t["verdict"] == "dropped"
    where = _verdict_rule_grew(before, counters(lab, node), t["branches"][0])
    assert where.startswith("filter KUBE-PROXY-FIREWALL")
    assert "src=10.244.1.5" not in conntrack(lab, node, 80)  # never DNATed to the endpoint


def test_load_balancer_source_range_lets_its_clients_in(cluster):
    lab, node, _, _, manifest, tmp = cluster
    allowed = lab.add_pod(node, "office", "198.51.100.7")
    before = counters(lab, node)
    assert lab.connect(allowed, "192.0.2.50", 80) == ["web-0 10.244.1.5:8080"]
    t = trace(lab, node, manifest, tmp, "lb", "198.51.100.7", "192.0.2.50:80")
    assert t["verdict"] == "delivered"
    b = t["branches"][0]
    fw = next(s for s in b["steps"] if s["where"].startswith("nat KUBE-FW-"))
    assert "198.51.100.0/24" in fw["rule"] and counters(lab, node)[fw["where"]] > before.get(fw["where"], 0)

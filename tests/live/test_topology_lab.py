"""Topology-aware routing, live: 3 nodes in 2 zones, zone hints in the EndpointSlice, each node's
rules programmed for its zone the way kube-proxy does (kpgen), real traffic, read with --all-nodes
through the strict fake API server (which serves each Node with its topology.kubernetes.io/zone).

Every node is healthy with its own zone's endpoints (no endpoint-not-programmed, no node-drift
between zones); then one zone-a node programmed with zone-b's endpoint gets the finding naming it.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario

A1, A2, B1 = "10.244.1.5", "10.244.2.6", "10.244.3.7"  # pods on nodes za1, za2 (zone-a), zb1 (zone-b)
ZONE = {"za1": "zone-a", "za2": "zone-a", "zb1": "zone-b"}
NODE_OF = {A1: "za1", A2: "za2", B1: "zb1"}
POD = {A1: "web-a1", A2: "web-a2", B1: "web-b1"}
WEB = kpgen.ServiceSpec("default", "web", "10.96.0.60", [kpgen.PortSpec("http", 80, 8080)], endpoints=[A1, A2, B1])


def _zone_rules(eps: list[str]) -> str:
    return kpgen.generate([kpgen.ServiceSpec(**{**WEB.__dict__, "endpoints": eps})], kpgen.ProxyConfig(jumps=True))


def _hinted_objects() -> list[dict]:
    """The Service and its slice, each endpoint hinted for its own zone (what the EndpointSlice controller writes)."""
    objs = kpgen.api_objects(WEB, node_of=NODE_OF)
    objs[0]["spec"]["trafficDistribution"] = "PreferClose"
    for ep in objs[1]["endpoints"]:
        zone = ZONE[ep["nodeName"]]
        ep["zone"] = zone
        ep["hints"] = {"forZones": [{"name": zone}]}
    return objs


def _setup(scenario: Scenario, za2_eps: list[str]) -> None:
    nodes = {"za1": [A1, A2], "za2": za2_eps, "zb1": [B1]}
    for name, eps in nodes.items():
        node = scenario.node(name, _zone_rules(eps))
        node_obj = scenario.cluster.objects[("Node", "", name)]
        node_obj["metadata"]["labels"]["topology.kubernetes.io/zone"] = ZONE[name]
        for ip in eps:  # the endpoints this node's rules send to answer from pods wired to it
            scenario.lab.add_pod(node, f"{name}-{POD[ip]}", ip, ports=[8080])
    scenario.cluster.add_objects(_hinted_objects())
    scenario.cluster.set_proxy_config("iptables")


def _run(scenario: Scenario) -> tuple[int, dict]:
    code, out, err = svcpath("web", "--all-nodes", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))
    assert out, err
    return code, json.loads(out)


@pytest.mark.lab
@pytest.mark.api
def test_each_zone_programs_its_own_endpoints_and_all_nodes_are_healthy(scenario: Scenario):
    _setup(scenario, [A1, A2])
    za1, zb1 = scenario.nodes["za1"], scenario.nodes["zb1"]
    # real traffic: zone-a's node reaches only zone-a's pods, zone-b's only its own
    assert set(scenario.lab.connect(za1, WEB.cluster_ip, 80, n=6)) <= {f"za1-web-a1 {A1}:8080", f"za1-web-a2 {A2}:8080"}
    assert scenario.lab.connect(zb1, WEB.cluster_ip, 80, n=2) == [f"zb1-web-b1 {B1}:8080"] * 2
    scenario.snapshot_rules()

    code, doc = _run(scenario)

    assert code == 0, [f for item in doc["items"] for f in item["findings"]] + doc["findings"]
    assert [i["node"] for i in doc["items"]] == ["za1", "za2", "zb1"] and doc["errors"] == [] and doc["findings"] == []
    for item in doc["items"]:
        zone = ZONE[item["node"]]
        assert item["expected"]["zone"] == zone and item["expected"]["zoneSource"] == "node"
        assert not {f["code"] for f in item["findings"]} & {"endpoint-not-programmed", "stale-endpoint", "topology-hints-ignored"}
        port = item["ports"][0]
        assert port["expected"]["topology"] == "PreferSameZone"
        hops = {h["ip"]: h["expected"]["reason"] for h in port["paths"][0]["endpoints"]}
        assert hops == {ip: f"in zone {zone} (hints)" for ip, n in NODE_OF.items() if ZONE[n] == zone}
        other = "zone-b" if zone == "zone-a" else "zone-a"
        assert {e["ip"]: e["expected"]["reason"] for e in port["leftOutEndpoints"]} == {
            ip: f"out of zone (hints for {other})" for ip, n in NODE_OF.items() if ZONE[n] == other}
    counted = next(p for p in doc["items"][0]["ports"][0]["paths"] if p["entry"] == "clusterIP")
    assert counted["packets"] == 6  # the traffic sent through za1 is in its counters
    scenario.assert_read_only({("iptables", "--version"), ("iptables-save", "-c")})


@pytest.mark.lab
@pytest.mark.api
def test_a_node_programmed_with_a_wrong_zone_endpoint_is_named(scenario: Scenario):
    _setup(scenario, [A1, A2, B1])  # za2's kube-proxy ignores the hints: zone-b's pod too
    assert set(scenario.lab.connect(scenario.nodes["za2"], WEB.cluster_ip, 80, n=9)) <= {
        f"za2-web-a1 {A1}:8080", f"za2-web-a2 {A2}:8080", f"za2-web-b1 {B1}:8080"}

    code, doc = _run(scenario)

    assert code == 3
    by_node = {i["node"]: {f["code"]: f for f in i["findings"]} for i in doc["items"]}
    assert "topology-hints-ignored" not in by_node["za1"] and "topology-hints-ignored" not in by_node["zb1"]
    f = by_node["za2"]["topology-hints-ignored"]
    assert f["severity"] == "error" and "za2" in f["message"] and f"{B1}:8080" in f["message"] and "zone zone-a" in f["message"]
    assert f["evidence"] and "KUBE-SVC-" in f["evidence"][0]
    assert not doc["findings"]  # za1 and za2 are not told apart by node-drift: the hints finding says it


def test_node_drift_compares_only_nodes_of_one_zone():
    """Pure: reports the pipeline makes from kpgen rules; zone-a and zone-b nodes differ by design."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.dump import Collection, RuleDump
    from kubectl_svcpath.findings.drift import node_drift
    from kubectl_svcpath.manifest import snapshot_from_objects

    objs = _hinted_objects()
    snap = snapshot_from_objects(objs, "default", "web")

    def report(node: str, eps: list[str]):
        coll = Collection([RuleDump(kpgen.to_save_format(kpgen.generate([kpgen.ServiceSpec(**{**WEB.__dict__, "endpoints": eps})])),
                                    f"{node}.txt")], node=node,
                          node_object={"metadata": {"name": node, "labels": {"topology.kubernetes.io/zone": ZONE[node]}}},
                          node_object_source="node")
        return pipeline.analyse(snap, pipeline.parse_collection(coll), coll)

    healthy = [report("za1", [A1, A2]), report("za2", [A1, A2]), report("zb1", [B1])]
    assert node_drift(healthy) == [] and not any(r.findings for r in healthy)
    behind = [report("za1", [A1, A2]), report("za2", [A1]), report("zb1", [B1])]  # za2 lost A2: same zone as za1
    (f,) = node_drift(behind)
    assert "za2 missing 10.244.2.6:8080" in f.message and "zb1" not in f.message

"""Expected programming on real dumps: hand-written manifests for each kube-proxy rule, against the rules
of kube-proxy's own TestOverallIPTablesRules / TestOverallNFTablesRules (shared/dumps, node "test-node").

In those rules ns1/svc1 holds one endpoint (10.180.0.1), ns4/svc4 two (10.180.0.4, 10.180.0.5),
ns2/svc2 (externalTrafficPolicy Local) has no local endpoint (DROP), ns6/svc6 none (REJECT). Each
manifest below adds what kube-proxy deliberately leaves out (another zone's endpoint, another node's,
a terminating one, the other IP family) and the test checks that the report neither calls it missing
nor stale, says why it is left out, and still reports an endpoint that truly is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import DUMPS, require_shared, svcpath

IPT = "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"
NFT = "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt"
NFT_LISTED = "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt"
SAVED = "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt"
NODE = "test-node"


def service(ns: str, name: str, ip: str, *, labels: dict[str, str] | None = None, ips: list[str] | None = None,
            **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"type": "ClusterIP", "clusterIP": ip, "clusterIPs": ips or [ip], "selector": {"app": name},
                     "ports": [{"name": "p80", "port": 80, "protocol": "TCP", "targetPort": 80}], **spec}}


def endpoint(ip: str, node: str, *, ready: bool = True, serving: bool = True, terminating: bool = False,
             zones: list[str] | None = None, nodes: list[str] | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"addresses": [ip], "nodeName": node,
                         "conditions": {"ready": ready, "serving": serving, "terminating": terminating}}
    hints = {**({"forZones": [{"name": z} for z in zones]} if zones else {}),
             **({"forNodes": [{"name": n} for n in nodes]} if nodes else {})}
    if hints:
        e["hints"] = hints
    return e


def endpoint_slice(ns: str, svc: str, *eps: dict[str, Any], family: str = "IPv4", name: str | None = None) -> dict[str, Any]:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name or f"{svc}-{family.lower()}", "namespace": ns, "labels": {"kubernetes.io/service-name": svc}},
            "addressType": family, "ports": [{"name": "p80", "port": 80, "protocol": "TCP"}], "endpoints": list(eps)}


def node(zone: str | None, name: str = NODE) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": name, **({"topology.kubernetes.io/zone": zone} if zone else {})}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.2"}]}}


def run(tmp_path: Path, dump: str, svc: str, objects: list[dict[str, Any]], *extra: str) -> tuple[int, dict[str, Any], str]:
    require_shared()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    code, out, err = svcpath(svc, "--rules-file", str(DUMPS / dump), "--manifest", str(manifest), "-o", "json", *extra)
    assert out, err
    return code, json.loads(out), err


def codes(doc: dict[str, Any]) -> set[str]:
    return {f["code"] for f in doc["findings"]}


def left_out(doc: dict[str, Any]) -> dict[str, str]:
    return {e["ip"]: e["expected"]["reason"] for p in doc["ports"] for e in p["leftOutEndpoints"]}


def missing(doc: dict[str, Any]) -> set[str]:
    return {e["ip"] for p in doc["ports"] for e in p["missingEndpoints"]}


SVC4 = service("ns4", "svc4", "172.30.0.44", externalIPs=["192.168.99.33"])
SVC4_ZONES = endpoint_slice("ns4", "svc4", endpoint("10.180.0.4", NODE, zones=["zone-a"]),
                            endpoint("10.180.0.5", "node4", zones=["zone-a"]),
                            endpoint("10.180.0.9", "node9", zones=["zone-b"]))
NO_FALSE = {"endpoint-not-programmed", "stale-endpoint", "topology-hints-ignored", "topology-hints-misapplied", "endpoint-not-expected"}


@pytest.mark.parametrize("dump", [IPT, SAVED, NFT, NFT_LISTED])
def test_zone_hints_usable_other_zone_left_out(tmp_path: Path, dump: str) -> None:
    code, doc, _ = run(tmp_path, dump, "ns4/svc4", [SVC4, SVC4_ZONES, node("zone-a")], "--node", NODE)
    assert not codes(doc) & NO_FALSE and code == 0, doc["findings"]
    assert left_out(doc) == {"10.180.0.9": "out of zone (hints for zone-b)"}
    hops = {h["ip"]: h["expected"] for p in doc["ports"][0]["paths"] for h in p["endpoints"]}
    assert hops["10.180.0.4"] == {"programmed": True, "reason": "in zone zone-a (hints)"}
    assert doc["expected"]["zone"] == "zone-a" and doc["expected"]["zoneSource"] == "manifest"
    assert any("zone hints used: endpoints hinted for zone zone-a" in n for n in doc["notes"])


def test_truly_missing_in_zone_endpoint_is_still_reported(tmp_path: Path) -> None:
    sl = endpoint_slice("ns4", "svc4", endpoint("10.180.0.4", NODE, zones=["zone-a"]), endpoint("10.180.0.5", "node4", zones=["zone-a"]),
                        endpoint("10.180.0.6", "node6", zones=["zone-a"]), endpoint("10.180.0.9", "node9", zones=["zone-b"]))
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [SVC4, sl, node("zone-a")], "--node", NODE)
    assert missing(doc) == {"10.180.0.6"} and code == ExitCode.PROBLEMS_FOUND
    f = next(f for f in doc["findings"] if f["code"] == "endpoint-not-programmed")
    assert "10.180.0.6:80" in f["message"] and "in zone zone-a (hints)" in f["message"]
    assert "stale-endpoint" not in codes(doc) and left_out(doc) == {"10.180.0.9": "out of zone (hints for zone-b)"}


def test_zone_inferred_when_no_node_object_and_said_so(tmp_path: Path) -> None:
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [SVC4, SVC4_ZONES])
    assert not codes(doc) & NO_FALSE and code == 0
    assert doc["expected"]["zone"] == "zone-a" and doc["expected"]["zoneSource"] == "inferred"
    assert any("INFERRED" in n for n in doc["notes"])


def test_wrong_zone_node_gets_hints_ignored_finding(tmp_path: Path) -> None:
    """The node is in zone-b: kube-proxy would program 10.180.0.9 only; the rules hold zone-a's endpoints."""
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [SVC4, SVC4_ZONES, node("zone-b")], "--node", NODE)
    f = next(f for f in doc["findings"] if f["code"] == "topology-hints-ignored")
    assert "10.180.0.4:80" in f["message"] and "10.180.0.5:80" in f["message"] and "zone zone-b" in f["message"]
    assert missing(doc) == {"10.180.0.9"} and code == ExitCode.PROBLEMS_FOUND


def test_hints_applied_where_kube_proxy_ignores_them(tmp_path: Path) -> None:
    """The node has no zone label: kube-proxy ignores the hints and programs all three; the rules hold zone-a's two."""
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [SVC4, SVC4_ZONES, node(None)], "--node", NODE)
    f = next(f for f in doc["findings"] if f["code"] == "topology-hints-misapplied")
    assert "zone zone-a" in f["message"] and "no topology.kubernetes.io/zone label" in f["message"] and "10.180.0.9:80" in f["detail"][0]
    assert "endpoint-not-programmed" not in codes(doc) and code == ExitCode.PROBLEMS_FOUND


def test_hints_unusable_one_endpoint_unhinted_reports_missing(tmp_path: Path) -> None:
    sl = endpoint_slice("ns4", "svc4", endpoint("10.180.0.4", NODE, zones=["zone-a"]), endpoint("10.180.0.5", "node4", zones=["zone-a"]),
                        endpoint("10.180.0.9", "node9"))
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [SVC4, sl, node("zone-a")], "--node", NODE)
    assert missing(doc) == {"10.180.0.9"} and "endpoint-not-programmed" in codes(doc)
    assert any("not every ready endpoint has one (none on 10.180.0.9:80)" in n for n in doc["notes"])


def test_prefer_same_node(tmp_path: Path) -> None:
    svc1 = service("ns1", "svc1", "172.30.0.41", trafficDistribution="PreferSameNode")
    sl = endpoint_slice("ns1", "svc1", endpoint("10.180.0.1", NODE, zones=["zone-a"], nodes=[NODE]),
                        endpoint("10.180.0.8", "node8", zones=["zone-a"], nodes=["node8"]))
    code, doc, _ = run(tmp_path, IPT, "ns1/svc1", [svc1, sl, node("zone-a")], "--node", NODE)
    assert not codes(doc) & NO_FALSE and code == 0, doc["findings"]
    assert left_out(doc) == {"10.180.0.8": "hinted for other nodes (node8)"}
    assert doc["ports"][0]["expected"]["topology"] == "PreferSameNode"


def test_all_terminating_fallback(tmp_path: Path) -> None:
    svc1 = service("ns1", "svc1", "172.30.0.41")
    sl = endpoint_slice("ns1", "svc1", endpoint("10.180.0.1", NODE, ready=False, terminating=True),
                        endpoint("10.180.0.7", "node7", ready=False, serving=False, terminating=True))
    code, doc, _ = run(tmp_path, IPT, "ns1/svc1", [svc1, sl, node("zone-a")], "--node", NODE)
    assert not codes(doc) & NO_FALSE, doc["findings"]
    assert "terminating-fallback" in codes(doc) and code == 0
    hop = doc["ports"][0]["paths"][0]["endpoints"][0]
    assert hop["expected"]["reason"] == "terminating: fallback (no ready endpoint)"
    assert left_out(doc) == {"10.180.0.7": "terminating, not serving"}


def test_terminating_endpoint_left_in_rules_is_reported(tmp_path: Path) -> None:
    """10.180.0.5 is terminating while 10.180.0.4 is ready: kube-proxy drops it; these rules still hold it."""
    sl = endpoint_slice("ns4", "svc4", endpoint("10.180.0.4", NODE), endpoint("10.180.0.5", "node4", ready=False, terminating=True))
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [SVC4, sl, node("zone-a")], "--node", NODE)
    f = next(f for f in doc["findings"] if f["code"] == "endpoint-not-expected")
    assert "10.180.0.5:80" in f["message"] and "terminating: ready endpoints exist" in f["detail"][0] and code == ExitCode.PROBLEMS_FOUND


def test_etp_local_without_local_endpoint(tmp_path: Path) -> None:
    svc2 = service("ns2", "svc2", "172.30.0.42", type="LoadBalancer", externalIPs=["192.168.99.22"], externalTrafficPolicy="Local",
                   healthCheckNodePort=30000)
    svc2["spec"]["ports"][0]["nodePort"] = 3001
    svc2["status"] = {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
    sl = endpoint_slice("ns2", "svc2", endpoint("10.180.0.2", "node2"))
    code, doc, _ = run(tmp_path, IPT, "ns2/svc2", [svc2, sl, node("zone-a")], "--node", NODE)
    assert not codes(doc) & NO_FALSE and code == 0, doc["findings"]
    exp = doc["ports"][0]["expected"]
    assert (exp["internalTraffic"], exp["externalTraffic"]) == ("cluster", "drop")
    assert "should answer 503" in exp["healthCheck"]
    hop = next(h for p in doc["ports"][0]["paths"] if p["entry"] == "clusterIP" for h in p["endpoints"])
    assert hop["expected"] == {"programmed": True, "reason": "ready, not local"}


def test_dual_stack_ipv6_endpoints_not_missing_from_ipv4_rules(tmp_path: Path) -> None:
    svc = service("ns4", "svc4", "172.30.0.44", ips=["172.30.0.44", "fd00::44"], externalIPs=["192.168.99.33"],
                  ipFamilies=["IPv4", "IPv6"], ipFamilyPolicy="RequireDualStack")
    v4 = endpoint_slice("ns4", "svc4", endpoint("10.180.0.4", NODE), endpoint("10.180.0.5", "node4"))
    v6 = endpoint_slice("ns4", "svc4", endpoint("fd00::4", NODE), family="IPv6")
    code, doc, _ = run(tmp_path, IPT, "ns4/svc4", [svc, v4, v6, node("zone-a")], "--node", NODE)
    assert not codes(doc) & NO_FALSE and code == 0, doc["findings"]
    assert "fd00::4" not in missing(doc)


@pytest.mark.parametrize("labels,owner", [
    ({"service.kubernetes.io/service-proxy-name": "cilium"}, 'the service proxy named "cilium"'),
    ({"service.kubernetes.io/headless": ""}, "through DNS"),
])
def test_opt_out_labels_no_error_and_a_note(tmp_path: Path, labels: dict[str, str], owner: str) -> None:
    """svc6 has no endpoints (REJECT only): labelled for another proxy, it is no one's error here."""
    svc6 = service("ns6", "svc6", "172.30.0.46", labels=labels)
    code, doc, _ = run(tmp_path, IPT, "ns6/svc6", [svc6, endpoint_slice("ns6", "svc6")], "--node", NODE)
    assert not {f["code"] for f in doc["findings"] if f["severity"] == "error"} and code == 0, doc["findings"]
    assert any("kube-proxy writes no rules for this Service" in n and owner in n for n in doc["notes"])
    assert doc["expected"]["programmed"] is False and owner in doc["expected"]["programmedBy"]


def test_opt_out_with_rules_left_is_a_warning(tmp_path: Path) -> None:
    svc1 = service("ns1", "svc1", "172.30.0.41", labels={"service.kubernetes.io/service-proxy-name": "cilium"})
    code, doc, _ = run(tmp_path, IPT, "ns1/svc1", [svc1, endpoint_slice("ns1", "svc1", endpoint("10.180.0.1", NODE))])
    assert {f["code"]: f["severity"] for f in doc["findings"]} == {"rules-for-ignored-service": "warning"} and code == 0


def test_lb_ingress_ipmode_proxy_and_no_node_ports(tmp_path: Path) -> None:
    """ipMode Proxy: no rule for that ingress IP; allocateLoadBalancerNodePorts false: no node port. Neither is missing."""
    svc4 = service("ns4", "svc4", "172.30.0.44", type="LoadBalancer", externalIPs=["192.168.99.33"], allocateLoadBalancerNodePorts=False)
    svc4["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.9", "ipMode": "Proxy"}]}}
    sl = endpoint_slice("ns4", "svc4", endpoint("10.180.0.4", NODE), endpoint("10.180.0.5", "node4"))
    for dump in (IPT, NFT):
        code, doc, _ = run(tmp_path, dump, "ns4/svc4", [svc4, sl])
        assert not {f["code"] for f in doc["findings"] if f["severity"] == "error"} and code == 0, doc["findings"]
        assert any("203.0.113.9: ipMode Proxy" in n for n in doc["notes"])
        assert any("allocateLoadBalancerNodePorts: false" in n for n in doc["notes"])


def test_table_shows_why_an_endpoint_is_left_out(tmp_path: Path) -> None:
    require_shared()
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"kind": "List", "items": [SVC4, SVC4_ZONES, node("zone-a")]}))
    code, out, err = svcpath("ns4/svc4", "--rules-file", str(DUMPS / IPT), "--manifest", str(manifest), "--node", NODE, "-o", "wide")
    assert code == 0 and err == ""
    lines = out.splitlines()
    below = lines.index("Not programmed on this node, and why:")
    assert lines[below + 1].split() == ["p80", "80/TCP", "10.180.0.9:80", "left", "out:", "out", "of", "zone", "(hints", "for", "zone-b)"]
    assert not any("10.180.0.9" in line for line in lines[:below])  # not a row of the table: no rule holds it
    code, tree, err = svcpath("ns4/svc4", "--rules-file", str(DUMPS / IPT), "--manifest", str(manifest), "--node", NODE, "-o", "tree")
    assert "10.180.0.4:80  ready; in zone zone-a (hints)" in tree and "10.180.0.9:80  left out: out of zone (hints for zone-b)" in tree


# --- Local traffic policies with a local endpoint: no shared dump has a KUBE-SVL chain, so these
# rules come from tests/lab/kpgen.py (kube-proxy's syncProxyRules, rule for rule; checked against
# the upstream dumps by tests/live/test_kpgen.py).

def _kpgen_run(tmp_path: Path, spec: Any, node_name: str, node_of: dict[str, str]) -> tuple[int, dict[str, Any]]:
    from tests.lab import kpgen

    dump = tmp_path / "rules.txt"
    dump.write_text(kpgen.to_save_format(kpgen.generate([spec])))
    objs = kpgen.api_objects(spec, node_of=node_of) + [node("zone-a", node_name)]
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"kind": "List", "items": objs}))
    code, out, err = svcpath(f"{spec.namespace}/{spec.name}", "--rules-file", str(dump), "--manifest", str(manifest),
                             "--node", node_name, "-o", "json")
    assert out, err
    return code, json.loads(out)


@pytest.mark.parametrize("policy", ["internal", "external"])
def test_local_policy_with_a_local_endpoint(tmp_path: Path, policy: str) -> None:
    from tests.lab import kpgen

    e1, e2 = "10.244.1.5", "10.244.2.6"
    if policy == "internal":  # a ClusterIP Service: only the Local set is used
        spec = kpgen.ServiceSpec("default", "web", "10.96.0.70", [kpgen.PortSpec("http", 80, 8080)],
                                 endpoints=[e1, e2], local_endpoints={e1}, internal_traffic_policy="Local")
    else:
        spec = kpgen.ServiceSpec("default", "web", "10.96.0.70", [kpgen.PortSpec("http", 80, 8080, node_port=30070)],
                                 endpoints=[e1, e2], local_endpoints={e1}, type="NodePort", external_traffic_policy="Local")
    code, doc = _kpgen_run(tmp_path, spec, "cp01", {e1: "cp01", e2: "cp02"})
    assert not codes(doc) & NO_FALSE and code == 0, doc["findings"]
    port = doc["ports"][0]
    local_entry = "clusterIP" if policy == "internal" else "nodePort"
    local_path = next(p for p in port["paths"] if p["entry"] == local_entry)
    assert local_path["policyChain"].startswith("KUBE-SVL-")
    assert [(h["ip"], h["expected"]["programmed"]) for h in local_path["endpoints"]] == [(e1, True)]
    key = "internalTraffic" if policy == "internal" else "externalTraffic"
    assert port["expected"][key] == "local"
    if policy == "external":  # the cluster IP still uses every endpoint; e2 is simply not local
        cip = next(p for p in port["paths"] if p["entry"] == "clusterIP")
        assert {h["ip"]: h["expected"]["reason"] for h in cip["endpoints"]} == {e1: "ready, local", e2: "ready, not local"}
    else:
        assert {e["ip"]: e["expected"]["reason"] for e in port["leftOutEndpoints"]} == {e2: "not local"}


def test_local_policy_local_endpoint_missing_is_reported(tmp_path: Path) -> None:
    """iTP Local, two local endpoints in the slices, the SVL chain holds one: the other is owed to this node."""
    from tests.lab import kpgen

    e1, e2, e3 = "10.244.1.5", "10.244.1.6", "10.244.2.6"
    spec = kpgen.ServiceSpec("default", "web", "10.96.0.70", [kpgen.PortSpec("http", 80, 8080)],
                             endpoints=[e1, e3], local_endpoints={e1}, internal_traffic_policy="Local")
    api = kpgen.ServiceSpec(**{**spec.__dict__, "endpoints": [e1, e2, e3]})
    k = kpgen
    dump = tmp_path / "rules.txt"
    dump.write_text(k.to_save_format(k.generate([spec])))
    objs = k.api_objects(api, node_of={e1: "cp01", e2: "cp01", e3: "cp02"}) + [node("zone-a", "cp01")]
    (tmp_path / "m.json").write_text(json.dumps({"kind": "List", "items": objs}))
    code, out, err = svcpath("default/web", "--rules-file", str(dump), "--manifest", str(tmp_path / "m.json"), "--node", "cp01", "-o", "json")
    doc = json.loads(out)
    assert missing(doc) == {e2} and code == ExitCode.PROBLEMS_FOUND
    assert "stale-endpoint" not in codes(doc) and e3 not in missing(doc)


def test_etp_local_with_a_local_endpoint_but_rules_drop(tmp_path: Path) -> None:
    """svc2's only endpoint is on this node: kube-proxy would forward external traffic to it, the rules DROP it."""
    svc2 = service("ns2", "svc2", "172.30.0.42", type="LoadBalancer", externalIPs=["192.168.99.22"], externalTrafficPolicy="Local",
                   healthCheckNodePort=30000)
    svc2["spec"]["ports"][0]["nodePort"] = 3001
    svc2["status"] = {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}
    sl = endpoint_slice("ns2", "svc2", endpoint("10.180.0.2", NODE))
    code, doc, _ = run(tmp_path, IPT, "ns2/svc2", [svc2, sl, node("zone-a")], "--node", NODE)
    f = next(f for f in doc["findings"] if f["code"] == "verdict-not-expected")
    assert "DROP" in f["message"] and "nodePort" in f["message"] and "10.180.0.2:80" in f["message"] and code == ExitCode.PROBLEMS_FOUND
    assert doc["ports"][0]["expected"]["externalTraffic"] == "local" and "should answer 200" in doc["ports"][0]["expected"]["healthCheck"]

"""What kube-proxy should program on a node (kubectl_svcpath.expected), case by case from kube-proxy's rules.

Each row names the rule of pkg/proxy (topology.go CategorizeEndpoints / topologyModeFromHints,
endpointslicecache.go, serviceport.go) or the KEP it follows.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_svcpath.expected import NodeIdentity, ProxyConfig, expected, infer_zone, opt_out


def svc(name: str = "web", ns: str = "default", *, type_: str = "ClusterIP", ips: tuple[str, ...] = ("10.96.0.10",),
        ports: list[dict[str, Any]] | None = None, itp: str | None = None, etp: str | None = None,
        labels: dict[str, str] | None = None, lb: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
                         "spec": {"type": type_, "clusterIP": ips[0] if ips else None, "clusterIPs": list(ips),
                                  "ports": ports or [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
                                  "selector": {"app": name}, **spec},
                         "status": {"loadBalancer": {"ingress": lb or []}}}
    if itp:
        s["spec"]["internalTrafficPolicy"] = itp
    if etp:
        s["spec"]["externalTrafficPolicy"] = etp
    return s


def ep(ip: str, node: str | None = None, *, ready: bool | None = True, serving: bool | None = None,
       terminating: bool | None = None, zones: list[str] | None = None, nodes: list[str] | None = None,
       zone: str | None = None) -> dict[str, Any]:
    cond: dict[str, Any] = {}
    if ready is not None:
        cond["ready"] = ready
    if serving is not None:
        cond["serving"] = serving
    if terminating is not None:
        cond["terminating"] = terminating
    e: dict[str, Any] = {"addresses": [ip], "conditions": cond}
    if node:
        e["nodeName"] = node
    if zone:
        e["zone"] = zone
    hints: dict[str, Any] = {}
    if zones is not None:
        hints["forZones"] = [{"name": z} for z in zones]
    if nodes is not None:
        hints["forNodes"] = [{"name": n} for n in nodes]
    if hints:
        e["hints"] = hints
    return e


def slc(*eps: dict[str, Any], name: str = "web-abc", service: str = "web", ns: str = "default", family: str = "IPv4",
        ports: list[dict[str, Any]] | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    lab = {"kubernetes.io/service-name": service, **(labels or {})}
    return {"kind": "EndpointSlice", "metadata": {"name": name, "namespace": ns, "labels": lab}, "addressType": family,
            "ports": ports if ports is not None else [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": list(eps)}


A = NodeIdentity("node-a1", "zone-a", "manifest")
B = NodeIdentity("node-b1", "zone-b", "manifest")
NOZONE = NodeIdentity("node-a1", None, "manifest")
UNKNOWN = NodeIdentity("node-a1")


def programmed(exp: Any, port: int = 0) -> dict[str, str]:
    """ip -> reason, for endpoints this node programs (any chain)."""
    return {v.ip: v.reason for v in exp.ports[port].verdicts.values() if v.programmed}


def reasons(exp: Any, port: int = 0) -> dict[str, str]:
    return {v.ip: v.reason for v in exp.ports[port].verdicts.values()}


HINTED = slc(ep("10.0.1.1", "node-a1", zones=["zone-a"]), ep("10.0.1.2", "node-a2", zones=["zone-a"]),
             ep("10.0.2.1", "node-b1", zones=["zone-b"]))

# (id, service, slices, node, programmed ip -> reason, a not-programmed ip -> reason)
CASES = [
    ("ready only", svc(), [slc(ep("10.0.0.1"), ep("10.0.0.2", ready=False))], A,
     {"10.0.0.1": "ready"}, ("10.0.0.2", "not ready")),
    ("nil ready means ready (API doc; endpointslicecache)", svc(), [slc(ep("10.0.0.1", ready=None))], A,
     {"10.0.0.1": "ready"}, None),
    ("terminating left out while ready ones exist (KEP-1669)", svc(),
     [slc(ep("10.0.0.1"), ep("10.0.0.2", ready=False, serving=True, terminating=True))], A,
     {"10.0.0.1": "ready"}, ("10.0.0.2", "terminating: ready endpoints exist")),
    ("all terminating: serving ones are the fallback (KEP-1669)", svc(),
     [slc(ep("10.0.0.1", ready=False, serving=True, terminating=True), ep("10.0.0.2", ready=False, serving=False, terminating=True))], A,
     {"10.0.0.1": "terminating: fallback (no ready endpoint)"}, ("10.0.0.2", "terminating, not serving")),
    ("zone hints usable: only this zone (KEP-2433)", svc(), [HINTED], A,
     {"10.0.1.1": "in zone zone-a (hints)", "10.0.1.2": "in zone zone-a (hints)"}, ("10.0.2.1", "out of zone (hints for zone-b)")),
    ("zone hints from the other zone's node", svc(), [HINTED], B,
     {"10.0.2.1": "in zone zone-b (hints)"}, ("10.0.1.1", "out of zone (hints for zone-a)")),
    ("hints ignored: one ready endpoint without a hint", svc(),
     [slc(ep("10.0.1.1", zones=["zone-a"]), ep("10.0.2.1"))], A, {"10.0.1.1": "ready", "10.0.2.1": "ready"}, None),
    ("not-ready endpoint without a hint does not spoil the hints (only ready ones count)", svc(),
     [slc(ep("10.0.1.1", zones=["zone-a"]), ep("10.0.2.1", zones=["zone-b"]), ep("10.0.2.9", ready=False))], A,
     {"10.0.1.1": "in zone zone-a (hints)"}, ("10.0.2.1", "out of zone (hints for zone-b)")),
    ("hints ignored: node has no zone label", svc(), [HINTED], NOZONE,
     {"10.0.1.1": "ready", "10.0.1.2": "ready", "10.0.2.1": "ready"}, None),
    ("hints ignored: no endpoint for the node's zone", svc(), [HINTED], NodeIdentity("node-c1", "zone-c", "node"),
     {"10.0.1.1": "ready", "10.0.1.2": "ready", "10.0.2.1": "ready"}, None),
    ("zone unknown: undetermined, never assumed", svc(), [HINTED], UNKNOWN,
     {}, ("10.0.1.1", "unknown: zone hints for zone-a, zone-b but the node's zone is not known")),
    ("forNodes hints: PreferSameNode (KEP-3015)", svc(),
     [slc(ep("10.0.1.1", "node-a1", zones=["zone-a"], nodes=["node-a1"]), ep("10.0.1.2", "node-a2", zones=["zone-a"], nodes=["node-a2"]))], A,
     {"10.0.1.1": "hinted for this node"}, ("10.0.1.2", "hinted for other nodes (node-a2)")),
    ("forNodes hints for other nodes only: zone hints apply", svc(),
     [slc(ep("10.0.1.2", "node-a2", zones=["zone-a"], nodes=["node-a2"]), ep("10.0.2.1", "node-b1", zones=["zone-b"], nodes=["node-b1"]))], A,
     {"10.0.1.2": "in zone zone-a (hints)"}, ("10.0.2.1", "out of zone (hints for zone-b)")),
    ("iTP Local: only this node's endpoints (KEP-2086)", svc(itp="Local"),
     [slc(ep("10.0.1.1", "node-a1"), ep("10.0.1.2", "node-a2"))], A, {"10.0.1.1": "ready"}, ("10.0.1.2", "not local")),
    ("iTP Local ignores hints", svc(itp="Local"), [HINTED], B, {"10.0.2.1": "ready"}, ("10.0.1.1", "not local")),
    ("iTP Local, local endpoint only terminating: fallback", svc(itp="Local"),
     [slc(ep("10.0.1.1", "node-a1", ready=False, serving=True, terminating=True), ep("10.0.1.2", "node-a2"))], A,
     {"10.0.1.1": "terminating: fallback (no ready endpoint on this node)"}, ("10.0.1.2", "not local")),
    ("eTP Local NodePort: cluster IP uses all, external only local", svc(type_="NodePort", etp="Local",
     ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]),
     [slc(ep("10.0.1.1", "node-a1"), ep("10.0.1.2", "node-a2"))], A,
     {"10.0.1.1": "ready, local", "10.0.1.2": "ready, not local"}, None),
    ("first address only, of this family", svc(),
     [slc({"addresses": ["10.0.0.1", "10.0.0.9"], "conditions": {"ready": True}})], A, {"10.0.0.1": "ready"}, None),
]


@pytest.mark.parametrize("name,service,slices,node,want,other", CASES, ids=[c[0] for c in CASES])
def test_categorize(name: str, service: dict[str, Any], slices: list[dict[str, Any]], node: NodeIdentity,
                    want: dict[str, str], other: tuple[str, str] | None) -> None:
    exp = expected(service, slices, node)
    assert exp.programmed
    assert programmed(exp) == want
    if other is not None:
        assert reasons(exp)[other[0]] == other[1]


def test_topology_reason_says_why_hints_were_not_used() -> None:
    cases = [
        (NOZONE, [HINTED], "the node has no topology.kubernetes.io/zone label"),
        (NodeIdentity("n", "zone-c", "node"), [HINTED], "no endpoint is hinted for the node's zone zone-c (hints: zone-a, zone-b)"),
        (A, [slc(ep("10.0.1.1", zones=["zone-a"]), ep("10.0.2.1"))], "not every ready endpoint has one (none on 10.0.2.1:8080)"),
        (A, [HINTED], "zone hints used: endpoints hinted for zone zone-a"),
        (NodeIdentity("node-a1", "zone-a", "inferred"), [HINTED], "(zone inferred from the programmed endpoints)"),
    ]
    for node, slices, words in cases:
        assert words in expected(svc(), slices, node).ports[0].topology_reason


def test_traffic_with_no_local_endpoint() -> None:
    """iTP Local without local endpoint: cluster IP traffic dropped; eTP Local: external dropped, 503 health check."""
    lb = svc(type_="LoadBalancer", etp="Local", itp="Local", healthCheckNodePort=32000,
             ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}], lb=[{"ip": "1.2.3.4"}])
    e = expected(lb, [slc(ep("10.0.1.2", "node-a2"))], A).ports[0]
    assert (e.internal, e.external) == ("drop", "drop")
    assert "should answer 503" in (e.health_check or "")
    e = expected(lb, [slc(ep("10.0.1.1", "node-a1"))], A).ports[0]
    assert (e.internal, e.external) == ("local", "local")
    assert "should answer 200 (1 local ready endpoint)" in (e.health_check or "")
    # only a terminating local endpoint: traffic goes there, but the health check fails (endpointschangetracker)
    e = expected(lb, [slc(ep("10.0.1.1", "node-a1", ready=False, serving=True, terminating=True))], A).ports[0]
    assert e.external == "local" and "503" in (e.health_check or "")
    # no usable endpoint anywhere: REJECT, whatever the policies
    e = expected(lb, [slc(ep("10.0.1.1", "node-a1", ready=False))], A).ports[0]
    assert (e.internal, e.external) == ("reject", "reject")
    # the node's name unknown: Local sets undetermined, not "drop"
    e = expected(lb, [slc(ep("10.0.1.1", "node-a1"))], NodeIdentity()).ports[0]
    assert (e.internal, e.external, e.local) == ("unknown", "unknown", None)


OPT_OUTS = [
    ("service-proxy-name", svc(labels={"service.kubernetes.io/service-proxy-name": "cilium"}), "cilium"),
    ("headless label", svc(labels={"service.kubernetes.io/headless": ""}), "DNS"),
    ("ExternalName", svc(type_="ExternalName", ips=(), externalName="db.example.com"), "db.example.com"),
    ("clusterIP None", svc(ips=("None",)), "DNS"),
]


@pytest.mark.parametrize("name,service,owner", OPT_OUTS, ids=[o[0] for o in OPT_OUTS])
def test_opt_outs(name: str, service: dict[str, Any], owner: str) -> None:
    exp = expected(service, [slc(ep("10.0.0.1"))], A)
    assert not exp.programmed and exp.reason and owner in (exp.owner or "")
    assert opt_out(service) is not None


def test_entries_kube_proxy_writes() -> None:
    s = svc(type_="LoadBalancer", ips=("10.96.0.10", "fd00::10"), externalIPs=["192.0.2.7", "2001:db8::7"],
            allocateLoadBalancerNodePorts=False, ports=[{"name": "http", "port": 80, "protocol": "TCP"}],
            lb=[{"ip": "198.51.100.1", "ipMode": "VIP"}, {"ip": "198.51.100.2", "ipMode": "Proxy"}, {"hostname": "lb.example"}])
    v4 = expected(s, [], A, ProxyConfig(family=4))
    assert v4.cluster_ip == "10.96.0.10"
    assert sorted((k, a) for k, a, _ in v4.entries) == [("clusterIP", "10.96.0.10"), ("externalIP", "192.0.2.7"), ("loadBalancer", "198.51.100.1")]
    skipped = " | ".join(v4.skipped_entries)
    assert "198.51.100.2: ipMode Proxy" in skipped and "allocateLoadBalancerNodePorts: false" in skipped and "2001:db8::7" in skipped
    v6 = expected(s, [], A, ProxyConfig(family=6))
    assert v6.cluster_ip == "fd00::10" and ("externalIP", "2001:db8::7", 80) in v6.entries
    single = expected(svc(), [], A, ProxyConfig(family=6))
    assert not single.programmed and "no IPv6 cluster IP" in (single.reason or "")


def test_which_slices_count() -> None:
    s = svc()
    slices = [
        slc(ep("10.0.0.1"), name="web-v4"),
        slc(ep("fd00::1"), name="web-v6", family="IPv6"),
        slc({"addresses": ["web.example.com"]}, name="web-fqdn", family="FQDN"),
        slc(ep("10.0.0.9"), name="other-svc", service="other"),
        slc(ep("10.0.0.1", ready=False), name="web-dup"),  # same ip:port, second slice: kept once
        slc(ep("10.0.0.5"), name="web-named", ports=[{"name": "http", "port": 9090, "protocol": "TCP"}]),
        slc(ep("10.0.0.6"), name="web-noport", ports=[{"name": "metrics", "port": 9100, "protocol": "TCP"}]),
        slc(ep("10.0.0.7"), name="web-udp", ports=[{"name": "http", "port": 8080, "protocol": "UDP"}]),
    ]
    v4 = expected(s, slices, A).ports[0]
    assert {(e.ip, e.port) for e in v4.endpoints} == {("10.0.0.1", 8080), ("10.0.0.5", 9090)}
    # listed twice, ready in one slice and not in the other: the usable copy, flagged as ambiguous
    assert v4.verdicts["10.0.0.1:8080"].programmed and v4.endpoints[0].ambiguous
    notes = " | ".join(v4.notes)
    assert "addressType FQDN is ignored" in notes and "listed in EndpointSlices" in notes and "web-noport" in notes
    v6 = expected(svc(ips=("10.96.0.10", "fd00::10")), slices, A, ProxyConfig(family=6)).ports[0]
    assert [(e.ip, e.port) for e in v6.endpoints] == [("fd00::1", 8080)]


def test_duplicate_prefers_local_copy() -> None:
    slices = [slc(ep("10.0.0.1", "node-b1"), name="a"), slc(ep("10.0.0.1", "node-a1"), name="b")]
    e = expected(svc(itp="Local"), slices, A).ports[0]
    assert programmed(expected(svc(itp="Local"), slices, A)) == {"10.0.0.1": "ready"} and e.local


def test_mirrored_and_selectorless() -> None:
    s = svc()
    del s["spec"]["selector"]
    mirrored = slc(ep("10.0.0.1"), labels={"endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io"})
    exp = expected(s, [mirrored], A)
    assert programmed(exp) == {"10.0.0.1": "ready"} and "mirrored" in " ".join(exp.notes)
    assert "reads only EndpointSlices" in " ".join(expected(s, [], A).notes)


def test_infer_zone_from_programmed_set() -> None:
    eps = expected(svc(), [HINTED], UNKNOWN).ports[0].endpoints
    assert infer_zone(eps, {"10.0.1.1", "10.0.1.2"}) == "zone-a"
    assert infer_zone(eps, {"10.0.1.1"}) == "zone-a"  # one in-zone endpoint missing: still zone-a
    assert infer_zone(eps, {"10.0.2.1"}) == "zone-b"
    assert infer_zone(eps, {"10.0.1.1", "10.0.2.1"}) is None  # no zone holds both: hints not applied
    assert infer_zone(eps, set()) is None


def test_node_identity_from_node_object() -> None:
    node = {"kind": "Node", "metadata": {"name": "n1", "labels": {"topology.kubernetes.io/zone": "z1"}},
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.5"}, {"type": "Hostname", "address": "n1"}]}}
    ident = NodeIdentity.from_node_object(node, "node")
    assert (ident.name, ident.zone, ident.zone_source, ident.addresses) == ("n1", "z1", "node", ("192.168.0.5",))
    bare = NodeIdentity.from_node_object({"metadata": {"name": "n2"}}, "manifest")
    assert bare.zone is None and bare.zone_known  # known to have no zone label


def test_nodeport_addresses_note() -> None:
    s = svc(type_="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}])
    node = NodeIdentity("n", None, "node", ("192.168.0.5", "10.1.0.5"))
    exp = expected(s, [], node, ProxyConfig(node_port_addresses=("192.168.0.0/24",)))
    assert "addresses in 192.168.0.0/24 (on this node: 192.168.0.5)" in " ".join(exp.notes)
    assert not any("node ports accept" in n for n in expected(s, [], node, ProxyConfig()).notes)


@pytest.mark.parametrize(("cidrs", "addresses", "said"), [
    ((), (), "every local address (none set for this family)"),
    (("fd00::/64",), (), "every local address (none set for this family)"),
    (("primary",), ("10.0.0.5",), "the node's primary address (10.0.0.5)"),
    (("10.0.0.0/8",), ("10.0.0.5", "192.168.1.2"), "addresses in 10.0.0.0/8 (on this node: 10.0.0.5)"),
])
def test_node_port_addresses_note(cidrs: tuple[str, ...], addresses: tuple[str, ...], said: str) -> None:
    """Where node ports listen, as kube-proxy's nodePortAddresses says: one parenthesis, the setting named first."""
    node = NodeIdentity("node-a1", "zone-a", "node", addresses)
    notes = expected(svc(type_="NodePort", ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]),
                     [slc(ep("10.0.1.1", "node-a1"))], node, ProxyConfig(node_port_addresses=cidrs)).notes
    assert f"kube-proxy's nodePortAddresses: node ports accept traffic on {said}" in notes

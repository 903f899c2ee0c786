"""What kube-proxy should program on one node, per service port: computed from the API objects. Pure.

Follows kube-proxy's own code, rule for rule:

- which Services at all: ``proxyutil.ShouldSkipService`` (ExternalName, headless) and the label
  selector kube-proxy lists Services with (``service.kubernetes.io/service-proxy-name`` and
  ``service.kubernetes.io/headless`` must be absent: cmd/kube-proxy/app/server.go);
- which entries: ``newBaseServiceInfo`` (serviceport.go): external IPs and LB ingress IPs of the
  rules' IP family only, LB ingress with ``ipMode: Proxy`` skipped, no node port when the Service
  has none (``allocateLoadBalancerNodePorts: false``);
- which endpoints exist: ``EndpointSliceCache`` (endpointslicecache.go, endpointschangetracker.go):
  slices labelled ``kubernetes.io/service-name``, address type IPv4/IPv6 only (FQDN ignored), the
  first address of each endpoint and only of the rules' family, ports matched by name and protocol
  per slice (a named targetPort may resolve differently per slice), ``ip:port`` duplicates across
  slices kept once (the local copy wins);
- which of them are programmed: ``CategorizeEndpoints`` / ``topologyModeFromHints``
  (pkg/proxy/topology.go): ready endpoints, filtered by topology hints when usable (KEP-2433 zone
  hints, KEP-3015 ``forNodes`` for PreferSameNode); else serving-and-terminating ones (KEP-1669);
  Local internal/external traffic policy (KEP-2086, KEP-1669) uses only this node's endpoints.

Nothing here reads rules: the result is what the rules *should* hold, and why.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from kubectl_svcpath import apifields
from kubectl_svcpath.endpoints import ip_family

ZONE_LABEL = "topology.kubernetes.io/zone"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
PROXY_NAME_LABEL = "service.kubernetes.io/service-proxy-name"
HEADLESS_LABEL = "service.kubernetes.io/headless"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MIRRORING_CONTROLLER = "endpointslicemirroring-controller.k8s.io"

PREFER_SAME_ZONE = "PreferSameZone"
PREFER_SAME_NODE = "PreferSameNode"

@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """The node whose rules are checked, as far as the input tells.

    ``zone_source``: ``node`` (the Node object, read live), ``manifest`` (a Node in --manifest),
    ``inferred`` (from the endpoints the rules hold: a guess, always said as such) or ``unknown``.
    A known node without the zone label has ``zone=None`` and a source other than ``unknown``.
    """

    name: str | None = None
    zone: str | None = None
    zone_source: str = "unknown"
    addresses: tuple[str, ...] = ()

    @property
    def zone_known(self) -> bool:
        return self.zone_source != "unknown"

    @classmethod
    def from_node_object(cls, node: dict[str, Any], source: str) -> NodeIdentity:
        return cls(name=apifields.text(node, "metadata", "name"), zone=apifields.text(node, "metadata", "labels", ZONE_LABEL) or None,
                   zone_source=source, addresses=tuple(apifields.addresses(node)))


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    """What kube-proxy's own configuration says, when it is known."""

    family: int = 4  # the IP family of the rules being checked (one proxier per family)
    # --nodeport-addresses / nodePortAddresses: CIDRs, ["primary"], [] (all local addresses) or None (unknown)
    node_port_addresses: tuple[str, ...] | None = None
    # PreferSameTrafficDistribution gate (forNodes hints): alpha v1.33, on by default from v1.34
    prefer_same_node: bool = True


@dataclass(frozen=True, slots=True)
class SliceEndpoint:
    """One endpoint of one service port, as kube-proxy's EndpointSliceCache holds it."""

    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    node: str | None = None
    zone: str | None = None
    zone_hints: frozenset[str] = frozenset()
    node_hints: frozenset[str] = frozenset()
    slice: str = ""
    # listed in several slices with different conditions: kube-proxy keeps one copy, in map order
    ambiguous: bool = False
    # ip:port ([ip]:port for IPv6), made once: the expectation looks endpoints up by it ~10 times each
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}")


@dataclass(slots=True)
class EndpointVerdict:
    """Whether this node should program one endpoint of one port, and why (words users read)."""

    ip: str
    port: int
    programmed: bool
    reason: str  # e.g. "ready", "out of zone (hints for zone-b)", "not local", "terminating: fallback"
    cluster: bool | None = None  # in the Cluster-policy set (None: the port never uses it)
    local: bool | None = None  # in the Local-policy set (None: the port never uses it)
    node: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"programmed": self.programmed, "reason": self.reason, "cluster": self.cluster, "local": self.local}


@dataclass(slots=True)
class ExpectedPort:
    name: str
    protocol: str
    port: int
    node_port: int | None
    endpoints: list[SliceEndpoint]  # every endpoint kube-proxy knows for the port (after family/port filters)
    cluster: list[SliceEndpoint] | None  # Cluster-policy set (KUBE-SVC / service-…); None: unused
    local: list[SliceEndpoint] | None  # Local-policy set (KUBE-SVL / local-…); None: unused or node unknown
    has_any_endpoints: bool
    topology: str = ""  # "", PreferSameZone, PreferSameNode; "unknown" when the node's zone is not known
    topology_reason: str = ""  # why hints were used or not, in words
    cluster_fallback: bool = False  # Cluster set is serving-terminating endpoints (no ready one anywhere)
    local_fallback: bool = False
    internal: str = "cluster"  # cluster IP traffic: "cluster" | "local" | "drop" | "reject" | "unknown"
    external: str | None = None  # node port / LB / external IP traffic; None: not externally reachable
    health_check: str | None = None  # what healthCheckNodePort answers (eTP Local)
    verdicts: dict[str, EndpointVerdict] = field(default_factory=dict)  # by SliceEndpoint.key
    notes: list[str] = field(default_factory=list)

    def keys_for(self, entry: str | None) -> set[str] | None:
        """``expected_for`` as a set of ``ip:port`` keys (large Services: one lookup per hop)."""
        want = self.expected_for(entry)
        return None if want is None else {e.key for e in want}

    def expected_for(self, entry: str | None) -> list[SliceEndpoint] | None:
        """The endpoint set a path of this entry kind should hold; None: unknown (or no entry rule in the input)."""
        if entry is None:
            return None
        mode = self.internal if entry == "clusterIP" else self.external
        if mode == "cluster":
            return self.cluster
        if mode == "local":
            return self.local
        if mode in ("drop", "reject"):
            return []
        return None


@dataclass(slots=True)
class Expectation:
    """What kube-proxy on this node programs for one Service (one IP family)."""

    namespace: str
    name: str
    family: int
    node: NodeIdentity
    programmed: bool = True  # False: kube-proxy writes nothing for this Service (see reason, owner)
    reason: str | None = None
    owner: str | None = None  # who programs it instead
    cluster_ip: str | None = None
    entries: list[tuple[str, str | None, int | None]] = field(default_factory=list)  # (kind, address, port)
    skipped_entries: list[str] = field(default_factory=list)
    ports: list[ExpectedPort] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def port(self, name: str, protocol: str) -> ExpectedPort | None:
        for p in self.ports:
            if p.name == name and p.protocol == protocol.upper():
                return p
        return None


# --- the Service ----------------------------------------------------------------------------


_family = ip_family


def opt_out(service: dict[str, Any]) -> tuple[str, str] | None:
    """(why kube-proxy writes no rules for the Service, who handles it instead), or None."""
    meta = service.get("metadata") or {}
    spec = service.get("spec") or {}
    labels = meta.get("labels") or {}
    if PROXY_NAME_LABEL in labels:
        return (f"labelled {PROXY_NAME_LABEL}={labels.get(PROXY_NAME_LABEL)}: kube-proxy ignores it",
                f"the service proxy named \"{labels.get(PROXY_NAME_LABEL)}\" (not kube-proxy) programs it")
    if HEADLESS_LABEL in labels:
        return (f"labelled {HEADLESS_LABEL}: kube-proxy ignores it",
                "nobody proxies it: clients reach the pods through DNS (the label marks it headless)")
    if spec.get("type") == "ExternalName":
        return ("type ExternalName: kube-proxy writes no rules for it",
                f"cluster DNS answers with a CNAME to {spec.get('externalName') or 'the external name'}")
    ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip]
    if not ips or ips[0] == "None":
        return ("headless (clusterIP: None): kube-proxy writes no rules for it",
                "nobody proxies it: cluster DNS returns the pod addresses themselves")
    return None


def _cluster_ip(spec: dict[str, Any], family: int) -> str | None:
    for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]:
        if ip and ip != "None" and _family(ip) == family:
            return ip
    return None


def _entries(service: dict[str, Any], family: int, cluster_ip: str) -> tuple[list[tuple[str, str | None, int | None]], list[str]]:
    spec = service.get("spec") or {}
    status = service.get("status") or {}
    entries: list[tuple[str, str | None, int | None]] = []
    skipped: list[str] = []
    ports = spec.get("ports") or []
    for p in ports:
        entries.append(("clusterIP", cluster_ip, p.get("port")))
    for ip in spec.get("externalIPs") or []:
        if _family(ip) == family:
            entries += [("externalIP", ip, p.get("port")) for p in ports]
        else:
            skipped.append(f"external IP {ip}: other IP family (the IPv{6 if family == 4 else 4} rules hold it)")
    for ing in (status.get("loadBalancer") or {}).get("ingress") or []:
        ip = ing.get("ip")
        if not ip:
            continue  # hostname-only ingress: nothing to match on
        if ing.get("ipMode") == "Proxy":
            skipped.append(f"load balancer ingress {ip}: ipMode Proxy, kube-proxy writes no rule for it "
                           "(the load balancer proxies to the node ports / pods itself)")
        elif _family(ip) != family:
            skipped.append(f"load balancer ingress {ip}: other IP family")
        else:
            entries += [("loadBalancer", ip, p.get("port")) for p in ports]
    stype = spec.get("type") or "ClusterIP"
    if stype in ("NodePort", "LoadBalancer"):
        for p in ports:
            if p.get("nodePort"):
                entries.append(("nodePort", None, p.get("nodePort")))
        if stype == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is False and not any(p.get("nodePort") for p in ports):
            skipped.append("node ports: none (allocateLoadBalancerNodePorts: false), so no node port rules")
    return entries, skipped


def node_port_addresses(config: ProxyConfig, node: NodeIdentity) -> str | None:
    """Where node ports listen, in words, from kube-proxy's --nodeport-addresses; None if unknown."""
    cidrs = config.node_port_addresses
    if cidrs is None:
        return None
    fam = [c for c in cidrs if c == "primary" or _family(c.split("/")[0]) == config.family]
    if not fam:
        return "every local address (none set for this family)"
    if fam == ["primary"]:
        prim = [a for a in node.addresses if _family(a) == config.family][:1]
        return "the node's primary address" + (f" ({prim[0]})" if prim else "")
    mine = [a for a in node.addresses if any(_in_cidr(a, c) for c in fam)]
    return "addresses in " + ", ".join(fam) + (f" (on this node: {', '.join(mine)})" if node.addresses else "")


def _in_cidr(ip: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


# --- the EndpointSlices ---------------------------------------------------------------------


def _cond(value: Any, default: bool) -> bool:
    return default if value is None else bool(value)


def slice_endpoints(service: dict[str, Any], slices: list[dict[str, Any]], port: dict[str, Any], family: int,
                    node_name: str | None, prefer_same_node: bool = True) -> tuple[list[SliceEndpoint], list[str]]:
    """The endpoints kube-proxy knows for one service port, and what it ignored (in words)."""
    meta = service.get("metadata") or {}
    ns, name = meta.get("namespace") or "default", meta.get("name") or ""
    pname = port.get("name") or ""
    proto = (port.get("protocol") or "TCP").upper()
    notes: list[str] = []
    found: dict[str, SliceEndpoint] = {}
    for sl in sorted(slices, key=lambda s: (s.get("metadata") or {}).get("name") or ""):
        smeta = sl.get("metadata") or {}
        sname = smeta.get("name") or "?"
        labels = smeta.get("labels") or {}
        if (smeta.get("namespace") or "default") != ns or labels.get(SERVICE_NAME_LABEL) != name:
            continue
        atype = sl.get("addressType")
        if atype not in ("IPv4", "IPv6"):
            notes.append(f"EndpointSlice {sname}: addressType {atype or '(none)'} is ignored by kube-proxy")
            continue
        if atype != f"IPv{family}":
            continue  # the other family's proxier reads it
        number = None
        for sp in sl.get("ports") or []:
            if "name" not in sp or sp.get("name") is None:
                continue  # kube-proxy: "Ignoring port with nil name"
            if sp.get("name") == pname and (sp.get("protocol") or "TCP").upper() == proto:
                number = sp.get("port")
        if not number:
            if sl.get("endpoints"):
                notes.append(f"EndpointSlice {sname}: no port named \"{pname}\"/{proto} with a number: its endpoints are not used for this port")
            continue
        for ep in sl.get("endpoints") or []:
            addrs = ep.get("addresses") or []
            if not addrs:
                continue
            ip = addrs[0]  # kube-proxy only uses the first address
            if _family(ip) != family:
                notes.append(f"EndpointSlice {sname}: {ip} is not IPv{family}: ignored")
                continue
            cond = ep.get("conditions") or {}
            zone_hints, node_hints = _hints(ep.get("hints"), prefer_same_node)
            e = SliceEndpoint(ip=ip, port=int(number), ready=_cond(cond.get("ready"), True),
                              serving=_cond(cond.get("serving"), True), terminating=_cond(cond.get("terminating"), False),
                              node=ep.get("nodeName"), zone=ep.get("zone"), zone_hints=zone_hints, node_hints=node_hints,
                              slice=sname)
            prev = found.get(e.key)
            if prev is not None:
                differ = (prev.ready, prev.serving, prev.terminating) != (e.ready, e.serving, e.terminating)
                notes.append(f"{e.key} is listed in EndpointSlices {prev.slice} and {sname}: kube-proxy keeps one copy"
                             + (" (their conditions differ: which one depends on kube-proxy's map order)" if differ else ""))
                local_copy = bool(node_name) and e.node == node_name and prev.node != node_name
                if local_copy or (differ and _usability(e) > _usability(prev)):
                    e = replace(e, ambiguous=differ or prev.ambiguous)  # the local copy wins (addEndpoints)
                else:
                    e = replace(prev, ambiguous=differ or prev.ambiguous)
            found[e.key] = e
    return sorted(found.values(), key=lambda e: e.key), notes


_NO_HINTS: frozenset[str] = frozenset()  # one for every endpoint without hints (10^5 endpoints: 2 x 20 MB otherwise)


def _hints(hints: Any, prefer_same_node: bool) -> tuple[frozenset[str], frozenset[str]]:
    """An endpoint's zone and node hints (forNodes only read when PreferSameNode is on)."""
    if not hints:
        return _NO_HINTS, _NO_HINTS
    zones = frozenset(z.get("name") for z in hints.get("forZones") or [] if z.get("name"))
    nodes = frozenset(n.get("name") for n in hints.get("forNodes") or [] if n.get("name")) if prefer_same_node else _NO_HINTS
    return zones or _NO_HINTS, nodes or _NO_HINTS


def _usability(e: SliceEndpoint) -> int:
    return 2 if e.ready else 1 if (e.serving and e.terminating) else 0


def _mirrored(slices: list[dict[str, Any]]) -> bool:
    return any(((s.get("metadata") or {}).get("labels") or {}).get(MANAGED_BY_LABEL) == MIRRORING_CONTROLLER for s in slices)


# --- CategorizeEndpoints ----------------------------------------------------------------------


def topology_mode(endpoints: list[SliceEndpoint], node: NodeIdentity, prefer_same_node: bool = True) -> tuple[str, str]:
    """topologyModeFromHints: ("", PreferSameZone, PreferSameNode or "unknown", why), over ready endpoints."""
    ready = [e for e in endpoints if e.ready]
    if not ready:
        return "", "no ready endpoint: hints do not apply"
    if prefer_same_node and all(e.node_hints for e in ready):
        if node.name and any(node.name in e.node_hints for e in ready):
            return PREFER_SAME_NODE, f"forNodes hints used: endpoints hinted for node {node.name}"
        if node.name is None:
            return "unknown", "every endpoint has a forNodes hint but the node's name is not known"
        same_node_why = f"forNodes hints ignored: no endpoint is hinted for node {node.name}"
    elif prefer_same_node and any(e.node_hints for e in ready):
        same_node_why = "forNodes hints ignored: not every ready endpoint has one"
    else:
        same_node_why = ""
    if not all(e.zone_hints for e in ready):
        if any(e.zone_hints for e in ready):
            missing = sorted(e.key for e in ready if not e.zone_hints)
            return "", _join(same_node_why, "zone hints ignored: not every ready endpoint has one (none on " + ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "") + ")")
        return "", _join(same_node_why, "no topology hints")
    zones = sorted({z for e in ready for z in e.zone_hints})
    if not node.zone_known:
        return "unknown", _join(same_node_why, "zone hints for " + ", ".join(zones) + " but the node's zone is not known")
    if node.zone is None:
        return "", _join(same_node_why, f"zone hints ignored: the node has no {ZONE_LABEL} label")
    if not any(node.zone in e.zone_hints for e in ready):
        return "", _join(same_node_why, f"zone hints ignored: no endpoint is hinted for the node's zone {node.zone} (hints: {', '.join(zones)})")
    src = " (zone inferred from the programmed endpoints)" if node.zone_source == "inferred" else ""
    return PREFER_SAME_ZONE, _join(same_node_why, f"zone hints used: endpoints hinted for zone {node.zone}{src}")


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _available(e: SliceEndpoint, mode: str, node: NodeIdentity) -> bool:
    if mode == PREFER_SAME_NODE:
        return node.name in e.node_hints
    if mode == PREFER_SAME_ZONE:
        return node.zone in e.zone_hints
    return True


def categorize(endpoints: list[SliceEndpoint], node: NodeIdentity, uses_cluster: bool, uses_local: bool,
               prefer_same_node: bool = True) -> ExpectedPort:
    """CategorizeEndpoints for one port: the Cluster and Local sets with every endpoint's reason."""
    out = ExpectedPort(name="", protocol="", port=0, node_port=None, endpoints=endpoints, cluster=None, local=None,
                       has_any_endpoints=any(e.ready or (e.serving and e.terminating) for e in endpoints))
    mode = ""
    if uses_cluster and endpoints:
        mode, out.topology_reason = topology_mode(endpoints, node, prefer_same_node)
        out.topology = mode
        if mode != "unknown":
            cluster = [e for e in endpoints if e.ready and _available(e, mode, node)]
            if not cluster:  # no ready endpoint anywhere (topology already fell back to all otherwise)
                cluster = [e for e in endpoints if e.serving and e.terminating]
                out.cluster_fallback = bool(cluster)
            out.cluster = cluster
    elif uses_cluster:
        out.cluster = []
    if uses_local and node.name is not None:
        mine = [e for e in endpoints if e.node == node.name]
        out.local = [e for e in mine if e.ready]
        if not out.local:
            out.local = [e for e in mine if e.serving and e.terminating]
            out.local_fallback = bool(out.local)
    cluster_keys = None if out.cluster is None else {e.key for e in out.cluster}
    local_keys = None if out.local is None else {e.key for e in out.local}
    for e in endpoints:
        out.verdicts[e.key] = _verdict(e, out, node, uses_cluster, uses_local, cluster_keys, local_keys)
    return out


def _verdict(e: SliceEndpoint, p: ExpectedPort, node: NodeIdentity, uses_cluster: bool, uses_local: bool,
             cluster_keys: set[str] | None, local_keys: set[str] | None) -> EndpointVerdict:
    in_cluster = None if cluster_keys is None else e.key in cluster_keys
    in_local = None if local_keys is None else e.key in local_keys
    v = EndpointVerdict(ip=e.ip, port=e.port, programmed=bool(in_cluster or in_local), reason="", cluster=in_cluster,
                        local=in_local, node=e.node)
    if v.programmed:
        if (in_cluster and p.cluster_fallback) or (not in_cluster and p.local_fallback):
            why = "terminating: fallback (no ready endpoint" + ("" if in_cluster else " on this node") + ")"
        elif in_cluster and p.topology == PREFER_SAME_ZONE:
            why = f"in zone {node.zone} (hints)"
        elif in_cluster and p.topology == PREFER_SAME_NODE:
            why = "hinted for this node"
        else:
            why = "ready"
        if uses_local and uses_cluster:
            why += ", local" if in_local else (", not local" if in_local is False else "")
        v.reason = why
        return v
    # not programmed here (or not known): the first rule that leaves it out
    if e.ambiguous:
        v.reason = "unknown: listed twice with different conditions"
    elif not e.ready and not (e.serving and e.terminating):
        v.reason = "terminating, not serving" if e.terminating else "not ready"
    elif not e.ready:
        v.reason = "terminating: ready endpoints exist" + ("" if in_local is None or uses_cluster else " on this node")
    elif uses_cluster and p.topology == "unknown":
        v.reason = "unknown: " + p.topology_reason
    elif in_cluster is False and p.topology == PREFER_SAME_ZONE:
        v.reason = f"out of zone (hints for {', '.join(sorted(e.zone_hints))})"
    elif in_cluster is False and p.topology == PREFER_SAME_NODE:
        v.reason = f"hinted for other nodes ({', '.join(sorted(e.node_hints))})"
    elif uses_local and p.local is None:
        v.reason = "unknown: Local traffic policy and the node's name is not known"
    elif in_local is False:
        v.reason = "not local"
    else:
        v.reason = "not selected"
    return v


# --- the whole Service ------------------------------------------------------------------------


def expected(service: dict[str, Any], slices: list[dict[str, Any]], node: NodeIdentity | None = None,
             config: ProxyConfig | None = None) -> Expectation:
    """What kube-proxy on ``node`` programs for ``service`` in the rules of ``config.family``."""
    node = node or NodeIdentity()
    config = config or ProxyConfig()
    meta = service.get("metadata") or {}
    spec = service.get("spec") or {}
    exp = Expectation(namespace=meta.get("namespace") or "default", name=meta.get("name") or "", family=config.family, node=node)
    skip = opt_out(service)
    if skip is not None:
        exp.programmed, exp.reason = False, skip[0]
        exp.owner = skip[1]
        return exp
    cluster_ip = _cluster_ip(spec, config.family)
    if cluster_ip is None:
        exp.programmed = False
        exp.reason = f"no IPv{config.family} cluster IP: kube-proxy's IPv{config.family} rules hold nothing for it"
        exp.owner = "the other IP family's rules"
        return exp
    exp.cluster_ip = cluster_ip
    exp.entries, exp.skipped_entries = _entries(service, config.family, cluster_ip)
    stype = spec.get("type") or "ClusterIP"
    itp_local = spec.get("internalTrafficPolicy") == "Local"
    etp_local = spec.get("externalTrafficPolicy") == "Local" and stype in ("NodePort", "LoadBalancer")
    hc_port = spec.get("healthCheckNodePort") if etp_local and stype == "LoadBalancer" else None
    if _mirrored(slices):
        exp.notes.append("EndpointSlices mirrored from an Endpoints object (Service without selector): kube-proxy uses them like any other")
    if not any(((s.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL) == exp.name for s in slices):
        if not spec.get("selector"):
            exp.notes.append("no EndpointSlice labelled kubernetes.io/service-name for this Service without selector: kube-proxy "
                             "reads only EndpointSlices (an Endpoints object alone, or one over 1000 addresses that is not mirrored, gives it nothing)")
    where = node_port_addresses(config, node)
    if where and any(k == "nodePort" for k, _, _ in exp.entries):
        exp.notes.append(f"kube-proxy's nodePortAddresses: node ports accept traffic on {where}")
    for p in spec.get("ports") or []:
        eps, notes = slice_endpoints(service, slices, p, config.family, node.name, config.prefer_same_node)
        node_port = p.get("nodePort") or None
        externally = bool(node_port) or any(k in ("externalIP", "loadBalancer") for k, _, _ in exp.entries)
        uses_cluster = not itp_local or externally
        uses_local = itp_local or (etp_local and externally)
        ep = categorize(eps, node, uses_cluster, uses_local, config.prefer_same_node)
        ep.name, ep.protocol, ep.port, ep.node_port = p.get("name") or "", (p.get("protocol") or "TCP").upper(), int(p.get("port") or 0), node_port
        ep.notes.extend(notes)
        ep.internal = _policy(itp_local, ep)
        ep.external = _policy(etp_local, ep) if externally else None
        if hc_port:
            local_ready = {e.ip for e in eps if e.node == node.name and e.ready} if node.name else None
            if local_ready is None:
                pass  # the node's name is not known: nothing to say
            elif local_ready:
                n = len(local_ready)  # (what kube-proxy's health check server says from the API's view: not probed)
                ep.health_check = (f"health check node port {hc_port} should answer 200 "
                                   f"({n} local ready endpoint{'' if n == 1 else 's'})")
            else:
                ep.health_check = (f"health check node port {hc_port} should answer 503 (no local ready endpoint"
                                   + (", only terminating ones" if ep.local else "") + "): load balancers take this node out")
        exp.ports.append(ep)
    return exp


def _policy(local: bool, p: ExpectedPort) -> str:
    """Where one kind of traffic goes, as kube-proxy's syncProxyRules decides it."""
    if not p.has_any_endpoints:
        return "reject"
    if not local:
        return "unknown" if p.cluster is None else "cluster"
    if p.local is None:
        return "unknown"
    return "local" if p.local else "drop"


# --- when the node's zone is not given ------------------------------------------------------------


def infer_zone(endpoints: list[SliceEndpoint], programmed_ips: set[str]) -> str | None:
    """The one zone whose hinted ready endpoints include every programmed address, or None.

    Used only when no Node was given: the report then states the zone as inferred.
    """
    ready = [e for e in endpoints if e.ready]
    if not ready or not all(e.zone_hints for e in ready) or not programmed_ips:
        return None
    fits = []
    for zone in sorted({z for e in ready for z in e.zone_hints}):
        hinted = {e.ip for e in ready if zone in e.zone_hints}
        if programmed_ips <= hinted:
            fits.append((len(hinted - programmed_ips), zone))
    fits.sort()
    if not fits or (len(fits) > 1 and fits[0][0] == fits[1][0]):
        return None
    return fits[0][1]

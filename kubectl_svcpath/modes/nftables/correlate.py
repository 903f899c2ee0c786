"""nftables mode: follow each service port through kube-proxy's maps and chains, by name.

A packet meets ``services`` (from the nat base chains, whatever they are called in this
kube-proxy version), is looked up in the ``service-ips`` / ``service-nodeports`` verdict maps,
goes to ``external-…`` (external traffic) and ``service-…`` / ``local-…`` (endpoint choice by
``numgen random mod N vmap``), then to ``endpoint-…`` and its ``dnat``. Ports without usable
endpoints are instead in ``no-endpoint-services`` / ``no-endpoint-nodeports`` (reject-chain:
no endpoints; drop: Local policy and none on this node). Chain names are recomputed from the
Service (kubeproxy.nft_service_chains) so comments are never trusted; the maps carry none anyway.

kube-proxy adds no counters in this mode. ``add_conntrack_counts`` fills the hop counters
from a ``conntrack -L`` listing instead, when one is given.
"""

from __future__ import annotations

import re
from collections import Counter
from sys import intern
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.endpoints import attach_slices
from kubectl_svcpath.modes.nftables.model import NftChain, NftElement, NftRule, NftRuleset, NftTable, Verdict, jump_target, numgen_of
from kubectl_svcpath.path import EndpointHop, EntryPath, Evidence, PortPath, dnat_unseen_note
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot

SERVICE_IPS = "service-ips"
SERVICE_NODEPORTS = "service-nodeports"
NO_ENDPOINT_SERVICES = "no-endpoint-services"
NO_ENDPOINT_NODEPORTS = "no-endpoint-nodeports"
FIREWALL_IPS = "firewall-ips"
MASQ_CHAIN = "mark-for-masquerade"

# service-B8-ns/svc/proto/port, endpoint-B8-ns/svc/proto/port__ip/port
_CHAIN_NAME = re.compile(r"^(service|local|external|firewall|endpoint|affinity)-([A-Z2-7]{8})-(.+)$")


# --- shared with the IPVS correlator -------------------------------------------------------


def is_ipv6(ip: str) -> bool:
    """``kubeproxy.ip_family(ip) == 6``, without parsing the IPv4 addresses (most of a big table's)."""
    return isinstance(ip, str) and ":" in ip and kubeproxy.ip_family(ip) == 6  # nft -j may hold a number there


def _family_table(nft: NftRuleset, ip: str) -> NftTable | None:
    return nft.table("ip6" if is_ipv6(ip) else "ip", "kube-proxy")


EVIDENCE_CHARS = 400  # a numgen map of 10,000 endpoints is one rule: each hop quotes its head, not all of it


class _Ev(Evidence):
    """Evidence for a rule or map element, its text (and JSON pointer) worked out when first read.

    A JSON rule carries no text: rendering each one back to nft's words was most of an --all
    audit's cost per Service, and an audit row shows none of it. The values are those ``Evidence``
    would hold; the object is only kept as long as the report that cites it."""

    __slots__ = ("_obj", "_prefix", "_text")
    _text: str | None

    def __init__(self, obj: NftElement | NftRule, prefix: str = "") -> None:
        self._obj, self._prefix, self._text = obj, prefix, None

    @property
    def source(self) -> str:  # type: ignore[override]
        loc = self._obj.loc
        if loc is None:
            return "nft"
        if loc.line_no:
            return loc.source
        return f"{loc.source}#{loc.pointer}" if loc.pointer else loc.source

    @property
    def line_no(self) -> int | None:  # type: ignore[override]
        loc = self._obj.loc
        return loc.line_no if loc is not None and loc.line_no else None

    @property
    def text(self) -> str:  # type: ignore[override]
        if self._text is None:
            raw = self._obj.raw or ""
            if len(raw) > EVIDENCE_CHARS:
                raw = f"{raw[:EVIDENCE_CHARS]}… ({len(raw):,} characters)"
            self._text = self._prefix + raw
        return self._text


def _ev(obj: NftElement | NftRule, prefix: str = "") -> Evidence:
    return _Ev(obj, prefix)


def evidence_of(obj: NftElement | NftRule) -> Evidence:
    """Where a map element or a rule is in the input, and its text (the findings cite rules so)."""
    return _Ev(obj, "")


# --- correlation -----------------------------------------------------------------------------


def correlate_nftables(snapshot: ServiceSnapshot, nft: NftRuleset) -> list[PortPath]:
    return [_correlate_port(snapshot, port, nft) for port in snapshot.ports]


def _correlate_port(snapshot: ServiceSnapshot, port: ServicePort, nft: NftRuleset) -> PortPath:
    names = kubeproxy.nft_service_chains(snapshot.namespace, snapshot.name, port.protocol, port.name)
    proto = port.protocol.lower()
    pp = PortPath(port=port)
    tables = nft.kube_proxy_tables()
    if any(names["svc"] in t.chains for t in tables):
        pp.service_chain = names["svc"]
    if any(names["svl"] in t.chains for t in tables):
        pp.local_chain = names["svl"]
    if not snapshot.headless:
        for ip in snapshot.cluster_ips:
            _add_ip_entry(pp, nft, "clusterIP", ip, proto, port.port, snapshot, names)
    for ip in snapshot.external_ips:
        _add_ip_entry(pp, nft, snapshot.external_kind, ip, proto, port.port, snapshot, names)
    for ip in snapshot.load_balancer_ips:
        _add_ip_entry(pp, nft, "loadBalancer", ip, proto, port.port, snapshot, names)
    for ip in snapshot.other_ips:  # dump-only: an address whose kind the input does not show
        _add_ip_entry(pp, nft, "address", ip, proto, port.port, snapshot, names)
    if port.node_port:
        for table in tables:
            _add_nodeport_entry(pp, table, proto, port.node_port, snapshot, names)
    affinity_chains = [p.policy_chain for p in pp.paths if any(h.affinity for h in p.endpoints)]
    for table in tables:
        for chain in affinity_chains:
            timeout = _affinity_timeout(table, chain)
            if timeout is not None:
                pp.affinity_timeout = timeout
                break

    def chain_for(ep: Endpoint) -> str:
        return "endpoint-" + kubeproxy.nft_endpoint_base(snapshot.namespace, snapshot.name, port.protocol, port.name,
                                                         ep.ip, ep.port if ep.port is not None else 0)

    attach_slices(snapshot, port, pp, {names["svc"]}, chain_for)
    if note := dnat_unseen_note([h for p in pp.paths for h in p.endpoints], ("its chain's name", "their chains' names")):
        pp.not_in_input.append(note)
    return pp


def _add_ip_entry(pp: PortPath, nft: NftRuleset, kind: str, ip: str, proto: str, port: int | None,
                  snapshot: ServiceSnapshot, names: dict[str, str]) -> None:
    table = _family_table(nft, ip)
    if table is None:
        return
    path = EntryPath(entry=kind, address=ip, port=port, chains=[])
    if kind == "loadBalancer":
        fw_map = table.set(FIREWALL_IPS)
        fw = fw_map.lookup(ip, proto, port) if fw_map else None
        if fw is not None and isinstance(fw.value, Verdict) and fw.value.target:
            path.chains += ["firewall-check", FIREWALL_IPS, fw.value.target]
            path.evidence.append(_ev(fw, f"{FIREWALL_IPS}: "))
            path.source_ranges = _source_ranges(table, fw.value.target, path)
    svc_map = table.set(SERVICE_IPS)
    element = svc_map.lookup(ip, proto, port) if svc_map else None
    no_ep = _no_endpoint_verdict(table, NO_ENDPOINT_SERVICES, (ip, proto, port))
    if element is not None and isinstance(element.value, Verdict) and element.value.target:
        path.chains += ["services", SERVICE_IPS]
        path.evidence.append(_ev(element, f"{SERVICE_IPS}: "))
        _follow(path, table, element.value.target)
        if not path.endpoints and no_ep is not None:  # eTP=Local, none here: the filter map drops the rest
            _apply_no_endpoint(path, table, NO_ENDPOINT_SERVICES, no_ep, "service-endpoints-check")
        pp.paths.append(path)
    elif no_ep is not None:
        _apply_no_endpoint(path, table, NO_ENDPOINT_SERVICES, no_ep, "service-endpoints-check")
        pp.paths.append(path)
    elif svc_map is None and kind == "clusterIP" and table.chain(names["svc"]) is not None:
        _follow(path, table, names["svc"])  # (the map is not in the input, its service chain is: pasted alone)
        pp.paths.append(path)
    elif path.chains:  # only the firewall map knows it
        path.verdict = "missing"
        pp.paths.append(path)


def _add_nodeport_entry(pp: PortPath, table: NftTable, proto: str, node_port: int, snapshot: ServiceSnapshot,
                        names: dict[str, str]) -> None:
    path = EntryPath(entry="nodePort", address=None, port=node_port, chains=[])
    np_map = table.set(SERVICE_NODEPORTS)
    element = np_map.lookup(proto, node_port) if np_map else None
    no_ep = _no_endpoint_verdict(table, NO_ENDPOINT_NODEPORTS, (proto, node_port))
    if element is not None and isinstance(element.value, Verdict) and element.value.target:
        path.chains += ["services", SERVICE_NODEPORTS]
        path.evidence.append(_ev(element, f"{SERVICE_NODEPORTS}: "))
        _follow(path, table, element.value.target)
        if not path.endpoints and no_ep is not None:
            _apply_no_endpoint(path, table, NO_ENDPOINT_NODEPORTS, no_ep, "nodeport-endpoints-check")
        pp.paths.append(path)
    elif no_ep is not None:
        _apply_no_endpoint(path, table, NO_ENDPOINT_NODEPORTS, no_ep, "nodeport-endpoints-check")
        pp.paths.append(path)


def _no_endpoint_verdict(table: NftTable, map_name: str, key: tuple) -> NftElement | None:
    m = table.set(map_name)
    return m.lookup(*key) if m else None


def _apply_no_endpoint(path: EntryPath, table: NftTable, map_name: str, element: NftElement, check_chain: str) -> None:
    verdict = element.value if isinstance(element.value, Verdict) else None
    path.chains += [check_chain, map_name]
    path.evidence.append(_ev(element, f"{map_name}: "))
    if verdict is not None and verdict.kind == "goto" and verdict.target:
        path.chains.append(verdict.target)
        body = table.chain(verdict.target)
        rejects = body is not None and any("reject" in e for r in body.rules for e in r.exprs)
        path.verdict = "reject" if rejects or verdict.target == "reject-chain" else "drop"
    elif verdict is not None and verdict.kind == "drop":
        path.verdict = "drop"
    else:
        path.verdict = "reject" if verdict and verdict.kind == "reject" else "drop"


def _source_ranges(table: NftTable, fw_chain: str, path: EntryPath) -> list[str]:
    """``ip saddr != { CIDR, … } drop``: the allowed sources."""
    chain = table.chain(fw_chain)
    out: list[str] = []
    for rule in chain.rules if chain else []:
        for m in rule.matches():
            if m.left in ("ip saddr", "ip6 saddr") and m.op == "!=":
                out.extend(str(x) for x in (m.right if isinstance(m.right, list) else [m.right]))
                path.evidence.append(_ev(rule))
    return out


def _follow(path: EntryPath, table: NftTable, target: str) -> None:
    seen: set[str] = set()
    current: str | None = target
    while current and current not in seen:
        seen.add(current)
        path.chains.append(current)
        chain = table.chain(current)
        if chain is None:
            path.verdict = "missing"  # the map points at a chain the dump lacks
            return
        if current.startswith("external-"):
            nxt = _next_hop(chain.rules)
            if nxt is None and current in table.cut_chains:  # (the author cut it: its goto may be in what was cut)
                path.verdict, path.unseen = "not-in-input", "the rest of its rules are"
                return
            if nxt is None:
                path.verdict = "drop"  # eTP=Local, no local endpoint: only pod/local traffic is short-circuited
                return
            path.evidence.append(_ev(nxt[1]))
            current = nxt[0]
            continue
        path.policy_chain = current
        path.endpoints = _endpoints(table, chain)
        if not path.endpoints and current in table.cut_chains:  # (its endpoints' vmap may be in what was cut)
            path.verdict, path.unseen = "not-in-input", "the rest of its rules (the endpoints' vmap) are"
        elif not path.endpoints:
            path.verdict = "missing"
        return


def _unconditional(rule: NftRule) -> bool:
    return not rule.matches() and not any("vmap" in e for e in rule.exprs)


def _next_hop(rules: list[NftRule]) -> tuple[str, NftRule] | None:
    """Where external traffic from outside goes: the last unconditional goto to a policy chain.

    eTP=Local external chains first short-circuit pod and node traffic to ``service-…``
    (conditional rules), then send the rest to ``local-…``; that last rule is what a client
    outside the cluster gets.
    """
    pick = None
    for rule in rules:
        v = rule.verdict
        if v and v.kind in ("goto", "jump") and v.target and v.target != MASQ_CHAIN and _unconditional(rule):
            pick = (v.target, rule)
    return pick


@dataclass(slots=True)
class _Dispatch:
    """A policy chain's endpoint choice: numgen keys per endpoint chain, and affinity shortcuts."""

    mod: int = 0
    keys: Counter = field(default_factory=Counter)
    order: list[str] = field(default_factory=list)
    affinity: dict[str, NftRule] = field(default_factory=dict)
    rule: NftRule | None = None
    # kube-proxy 1.36+ without endpoint chains: "dnat ip to numgen random mod N map { i : ip . port }"
    direct: dict[tuple[Any, Any], int] = field(default_factory=dict)


def dispatch_of(rules: list[NftRule]) -> _Dispatch:
    d = _Dispatch()
    for rule in rules:
        if not d.order and not d.direct and _direct_dnat(rule, d):
            continue
        for expr in rule.exprs:
            vmap = expr.get("vmap")
            if isinstance(vmap, dict) and isinstance(vmap.get("key"), dict) and "numgen" in vmap["key"]:
                counted = numgen_of(vmap["key"]["numgen"])
                d.mod = counted[0] if counted else 0
                d.rule = rule
                data = vmap.get("data")
                items = data.get("set", []) if isinstance(data, dict) else []
                for key, verdict in items:
                    target = None
                    if isinstance(verdict, dict):
                        target = jump_target(verdict.get("goto") or verdict.get("jump"))
                    if not target:
                        continue
                    if target not in d.keys:  # first time: its place in the map (a dict lookup: 40k chains)
                        d.order.append(target)
                    d.keys[target] += _key_count(key, d.mod)
        v = rule.verdict
        if v and v.kind in ("goto", "jump") and v.target and v.target.startswith("endpoint-"):
            if any(m.left in ("ip saddr", "ip6 saddr") and isinstance(m.right, str) and m.right.startswith("@")
                   for m in rule.matches()):
                d.affinity[v.target] = rule
            elif _unconditional(rule):  # a single-endpoint chain written as a plain goto
                d.keys[v.target] += d.mod or 1
                d.mod = d.mod or 1
                d.order.append(v.target)
                d.rule = rule
    return d


def _direct_dnat(rule: NftRule, d: _Dispatch) -> bool:
    """The policy chain DNATs itself (no endpoint chains): ``numgen random mod N map { i : ip . port }``,
    or one ``dnat to ip:port``. Fills ``d.direct`` ((ip, port) -> numgen values) and ``d.mod``."""
    dnat = rule.find("dnat")
    if not isinstance(dnat, dict) or dnat.get("addr") is None:
        return False
    addr = dnat["addr"]
    if not isinstance(addr, dict):  # "dnat to 10.0.0.1:80": the only endpoint
        if not isinstance(addr, str) or any(m.left.startswith(("ip saddr", "ip6 saddr")) for m in rule.matches()):
            return False
        d.mod, d.rule, d.direct[(addr, dnat.get("port"))] = 1, rule, 1
        return True
    m = addr.get("map")
    key = m.get("key") if isinstance(m, dict) else None
    data = m.get("data") if isinstance(m, dict) else None
    if not isinstance(key, dict) or not isinstance(key.get("numgen"), dict) or not isinstance(data, dict):
        return False
    counted = numgen_of(key["numgen"])
    mod = counted[0] if counted else 0
    for item in data.get("set") or []:
        if not isinstance(item, list) or len(item) != 2:
            continue
        value = item[1]
        if isinstance(value, dict) and isinstance(value.get("concat"), list) and len(value["concat"]) == 2:
            ip, port = value["concat"]
        else:
            ip, port = value, dnat.get("port")
        if isinstance(ip, str) and (port is None or isinstance(port, int)):
            d.direct[(ip, port)] = d.direct.get((ip, port), 0) + _key_count(item[0], mod)
    d.mod, d.rule = mod, rule
    return bool(d.direct)


def _key_count(key: object, mod: int) -> int:
    """How many numgen values a vmap key covers: 1, or a range "lo-hi"."""
    if isinstance(key, int):
        return 1
    if isinstance(key, dict) and "range" in key:
        bounds = key["range"]
        if isinstance(bounds, list) and len(bounds) == 2 and all(type(b) is int for b in bounds):
            return max(0, bounds[1] - bounds[0] + 1)
        return 0  # (a range of other values: no numgen value the trace or the shares can count)
    return 1


def _endpoints(table: NftTable, chain: NftChain) -> list[EndpointHop]:
    d = _dispatch(chain)
    hops: list[EndpointHop] = []
    for (ip, port), count in d.direct.items():
        hop = EndpointHop(ip=ip, port=port, chain=None, probability=(count / d.mod) if d.mod else 0.0)
        if d.rule is not None:
            hop.evidence.append(_ev(d.rule))
        hops.append(hop)
    for target in _targets(d):
        hop = _endpoint_hop(table, target)
        hop.probability = (d.keys[target] / d.mod) if d.mod else 0.0
        if d.rule is not None and target in d.keys:
            hop.evidence.insert(0, _ev(d.rule))
        if target in d.affinity:
            hop.affinity = True
            hop.evidence.insert(0, _ev(d.affinity[target]))
        hops.append(hop)
    return hops


def _dispatch(chain: NftChain) -> _Dispatch:
    return chain.once("dispatch", lambda c: dispatch_of(c.rules))


def _targets(d: _Dispatch) -> list[str]:
    """The endpoint chains a dispatch picks from: numgen map order, then affinity-only ones."""
    in_order = set(d.order)
    return list(d.order) + [t for t in d.affinity if t not in in_order]


def _dnat(table: NftTable, chain_name: str) -> tuple[Any, Any, NftRule | None]:
    """The endpoint chain's DNAT address, port and rule; from the chain's name when it has none."""
    chain = table.chain(chain_name)
    ip = port = None
    dnat_rule = None
    if chain is not None:
        ip, port, dnat_rule = chain.once("dnat", _last_dnat)
    if ip is None:  # chain missing or without dnat: fall back to the name, "…__10.0.0.1/80"
        ip, port = _endpoint_from_name(chain_name)
    return ip, port, dnat_rule


def _last_dnat(chain: NftChain) -> tuple[Any, Any, NftRule | None]:
    ip = port = None
    dnat_rule = None
    for rule in chain.rules:
        dnat = rule.find("dnat")
        if isinstance(dnat, dict):
            ip, port = dnat.get("addr"), dnat.get("port")
            port = port if type(port) is int else None  # (a port of another kind - a map, a string - is not read)
            dnat_rule = rule
    return ip, port, dnat_rule


def _updates_a_set(chain: NftChain) -> bool:
    """The endpoint chain records the client in an affinity set (``update @affinity-… { ip saddr }``)."""
    return any("set" in e and isinstance(e["set"], dict) and e["set"].get("op") in ("update", "add")
               for r in chain.rules for e in r.exprs)


def _endpoint_hop(table: NftTable, chain_name: str) -> EndpointHop:
    chain = table.chain(chain_name)
    ip, port, dnat_rule = _dnat(table, chain_name)
    hop = EndpointHop(ip=str(ip) if ip is not None else "?", port=int(port) if port is not None else None,
                      chain=chain_name, probability=None)
    if dnat_rule is not None:
        hop.evidence.append(_ev(dnat_rule))
    elif chain is None:  # (kube-proxy's vmap cannot name a chain the table lacks: it is not in the input)
        hop.dnat_unseen = "chain"
    elif chain_name in table.cut_chains:
        hop.dnat_unseen = "rule"
    if chain is not None:
        hop.affinity = chain.once("affinity", _updates_a_set)
    return hop


def _endpoint_from_name(name: str) -> tuple[str | None, int | None]:
    _, sep, tail = name.rpartition("__")
    if not sep:
        return None, None
    ip, _, port = tail.rpartition("/")
    parts = ip.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):  # IPv6 with ":" written as "." ("fd00..5": fd00::5)
        ip = ip.replace(".", ":")
    return ip or None, int(port) if port.isdigit() else None


def _affinity_timeout(table: NftTable, policy_chain: str | None) -> int | None:
    chain = table.chain(policy_chain or "")
    for name in chain.once("affinity-sets", _affinity_sets) if chain else ():
        s = table.set(name)
        if s is not None and s.timeout is not None:
            return s.timeout
    return None


def _affinity_sets(chain: NftChain) -> list[str]:
    """The ``@affinity-…`` sets the chain's rules match on, in rule order."""
    return [m.right for rule in chain.rules for m in rule.matches()
            if isinstance(m.right, str) and m.right.startswith("@affinity-")]


# --- dump-only mode: rebuild the Services the table describes -----------------------------------


def parse_chain_name(name: str) -> tuple[str, str, str, str, str] | None:
    """``service-ULMVA6XW-ns1/svc1/tcp/p80`` -> ("service", ns, svc, proto, port name)."""
    m = _CHAIN_NAME.match(name) if isinstance(name, str) else None  # a verdict's target in nft -j may be any JSON
    if not m:
        return None
    kind, _, rest = m.groups()
    rest = rest.split("__", 1)[0]
    parts = rest.split("/")
    if len(parts) != 4:
        return None
    ns, svc, proto, port_name = parts
    return kind, ns, svc, proto, port_name


def parse_spn_comment(comment: str | None) -> tuple[str, str, str] | None:
    """``ns2/svc2:p80`` (or ``ns/svc`` for an unnamed port) -> (ns, svc, port name)."""
    if not comment or "/" not in comment:
        return None
    ns, _, rest = comment.partition("/")
    svc, _, port_name = rest.partition(":")
    return ns, svc, port_name


@dataclass(slots=True)
class _PortFacts:
    protocol: str
    port: int | None = None
    node_port: int | None = None
    cluster_ips: list[str] = field(default_factory=list)
    # most Services have none: one shared empty tuple until the first (10,000 facts held by an --all audit)
    external_ips: list[str] | tuple[str, ...] = ()
    lb_ips: list[str] | tuple[str, ...] = ()
    other_ips: list[str] | tuple[str, ...] = ()  # kind not in the input (see _Facts._no_endpoints)
    source_ranges: list[str] | tuple[str, ...] = ()
    endpoints: dict[tuple[str, int | None], None] = field(default_factory=dict)
    itp_local: bool = False
    etp_local: bool = False
    # a drop for an address of unknown kind: internal or external policy is Local, which not known
    policy_unknown: bool = False
    # a chain that shows the policy is in the input: service-/local- (internal), external- (external);
    # a port with no endpoints has none (kube-proxy writes only its no-endpoint element): policy not shown
    itp_seen: bool = False
    etp_seen: bool = False
    affinity_timeout: int | None = None
    # "ClientIP" or "None" once a service chain shows it (its rules match an @affinity- set, or do not);
    # None: no service chain of the port is in the input (or it has no endpoints: kube-proxy writes none)
    affinity: str | None = None
    # the per-service chains the maps lead to, read (in map order) when the Service is reached
    chains: list[tuple[Callable[[NftTable, str, _PortFacts], None], NftTable, str]] = field(default_factory=list)

    def read_chains(self) -> None:
        for collect, table, chain in self.chains:
            collect(table, chain, self)
        self.chains.clear()


def infer_services_nftables(nft: NftRuleset, only: tuple[str | None, str] | None = None) -> list[ServiceSnapshot]:
    """The Services kube-proxy's table describes, with ``from_api=False`` (nothing cross-checked).

    ``only=(namespace, name)`` rebuilds just that Service (a 10,000-Service table: ~20x faster).
    Limits: an external IP and a load-balancer IP look the same in ``service-ips``; an address
    is called a load-balancer IP only when ``firewall-ips`` (loadBalancerSourceRanges) names it.
    """
    return list(each_service_nftables(nft, only))


def service_names_nftables(nft: NftRuleset) -> list[str]:
    """NAMESPACE/NAME of each Service the maps name (one pass over them; no Service rebuilt)."""
    facts = _Facts(None)
    for table in nft.kube_proxy_tables():
        facts.read_table(table)
    return [f"{ns}/{name}" for ns, name in sorted(facts.services) if name]


def each_service_nftables(nft: NftRuleset, only: tuple[str | None, str] | None = None) -> Iterator[ServiceSnapshot]:
    """The same Services one at a time, by name: one pass over the maps for all of them, then each
    Service's chains read when it is reached (an --all audit holds one Service's facts at a time)."""
    facts = _Facts(only)
    for table in nft.kube_proxy_tables():
        facts.read_table(table)
    for key in sorted(facts.services):
        yield _inferred_service(*key, facts.services.pop(key))


@dataclass(slots=True)
class _Facts:
    """What kube-proxy's maps say about each Service port, gathered map by map."""

    only: tuple[str | None, str] | None
    services: dict[tuple[str, str], dict[tuple[str, str], _PortFacts]] = field(default_factory=dict)

    def skip(self, ns: str, svc: str) -> bool:
        return self.only is not None and (svc != self.only[1] or (self.only[0] is not None and ns != self.only[0]))

    def port(self, ns: str, svc: str, proto: str, port_name: str) -> _PortFacts:
        ports = self.services.get((ns, svc))
        if ports is None:
            ports = self.services[(intern(ns), svc)] = {}
        key = (intern(port_name), intern(proto.lower()))
        f = ports.get(key)
        if f is None:
            f = ports[key] = _PortFacts(protocol=key[1])
        return f

    def read_table(self, table: NftTable) -> None:
        cluster_ip_set = table.set("cluster-ips")  # kube-proxy 1.30+; absent from 1.29's tables and from cut pastes
        cluster_ips = {e.key[0] for e in cluster_ip_set.elements} if cluster_ip_set else None
        fw_map = table.set(FIREWALL_IPS)
        fw_keys = {e.key for e in fw_map.elements} if fw_map else set()
        for element, target, (kind, ns, svc, proto, port_name) in self._dispatch(table, SERVICE_IPS, 3):
            ip, _, port = element.key
            f = self.port(ns, svc, proto, port_name)
            f.port = port if isinstance(port, int) else f.port
            if kind in ("service", "local"):
                _add_unique(f.cluster_ips, ip)
                f.itp_local = f.itp_local or kind == "local"
                f.itp_seen = True
                f.chains.append((_collect_policy, table, target))
            elif kind in ("external", "firewall"):
                f.etp_seen = True
                if element.key in fw_keys:
                    f.lb_ips = _with(f.lb_ips, ip)
                else:
                    f.external_ips = _with(f.external_ips, ip)
                f.chains.append((_collect_external, table, target))
        for element, target, (_, ns, svc, proto, port_name) in self._dispatch(table, SERVICE_NODEPORTS, 2):
            f = self.port(ns, svc, proto, port_name)
            f.node_port = element.key[1]
            f.etp_seen = True
            f.chains.append((_collect_external, table, target))
        for map_name in (NO_ENDPOINT_SERVICES, NO_ENDPOINT_NODEPORTS):
            self._no_endpoints(table, map_name, cluster_ips, fw_keys)
        if table.set(SERVICE_IPS) is None:  # (chain blocks pasted without the maps: whole tables always have it)
            self._bare_service_chains(table)
        for element, target, (_, ns, svc, proto, port_name) in self._dispatch(table, FIREWALL_IPS, 3):
            f = self.port(ns, svc, proto, port_name)
            f.lb_ips = _with(f.lb_ips, element.key[0])
            if element.key[0] in f.external_ips:
                f.external_ips = [x for x in f.external_ips if x != element.key[0]]
            scratch = EntryPath(entry="loadBalancer", address=None, port=None, chains=[])
            for cidr in _source_ranges(table, target, scratch):
                f.source_ranges = _with(f.source_ranges, cidr)

    def _bare_service_chains(self, table: NftTable) -> None:
        """A Service port's service chain with no map element leading to it in the input (``nft list chain``'s
        block pasted alone, grep's lines): the port its name says, the cluster IP and port of its masquerade rule."""
        for name in list(table.chains):
            parsed = parse_chain_name(name) if name.startswith("service-") else None
            if parsed is None or parsed[0] != "service" or self.skip(parsed[1], parsed[2]):
                continue
            f = self.port(parsed[1], parsed[2], parsed[3], parsed[4])
            if any(target == name for _, _, target in f.chains):
                continue
            f.chains.append((_collect_policy, table, name))
            for rule in table.chains[name].rules:  # "ip daddr CIP tcp dport P ip saddr != PODCIDR jump mark-for-masquerade"
                if (rule.verdict and rule.verdict.target) != MASQ_CHAIN:
                    continue
                found = {m.left: m.right for m in rule.matches() if m.op == "=="}
                ip = found.get("ip daddr", found.get("ip6 daddr"))
                port = found.get(f"{parsed[3]} dport")
                if isinstance(ip, str) and "/" not in ip and not ip.startswith("@") and isinstance(port, int):
                    _add_unique(f.cluster_ips, ip)
                    f.port = f.port or port
                break

    def _dispatch(self, table: NftTable, map_name: str, key_len: int) -> Iterator[tuple[NftElement, str, tuple[str, str, str, str, str]]]:
        """The elements of a verdict map that jump to a per-service chain of a Service we want."""
        m = table.set(map_name)
        for element in m.elements if m else []:
            if not isinstance(element.value, Verdict) or not element.value.target or len(element.key) != key_len:
                continue
            parsed = parse_chain_name(element.value.target)
            if parsed is not None and not self.skip(parsed[1], parsed[2]):
                yield element, element.value.target, parsed

    def _no_endpoints(self, table: NftTable, map_name: str, cluster_ips: set[object] | None, fw_keys: set[tuple]) -> None:
        """kube-proxy puts every kind of service address in ``no-endpoint-services`` (reject: no endpoints;
        drop: a Local policy and none here), so an address's kind comes from elsewhere: the ``cluster-ips``
        set, ``firewall-ips``, or ``service-ips`` naming it for this Service. Without them it is not known."""
        m = table.set(map_name)
        for element in m.elements if m else []:
            ident = parse_spn_comment(element.comment)
            if ident is None or self.skip(ident[0], ident[1]):
                continue
            ns, svc, port_name = ident
            if map_name == NO_ENDPOINT_NODEPORTS and len(element.key) == 2:
                f = self.port(ns, svc, str(element.key[0]), port_name)
                f.node_port = f.node_port or element.key[1]
                continue
            if len(element.key) != 3:
                continue
            ip, proto, port = element.key
            f = self.port(ns, svc, str(proto), port_name)
            f.port = f.port or port
            drop = isinstance(element.value, Verdict) and element.value.kind == "drop"
            kind = self._kind(ns, svc, f, ip, (ip, proto, port) in fw_keys, cluster_ips)
            if kind == "cluster":
                _add_unique(f.cluster_ips, ip)
                f.itp_local = f.itp_local or drop
            elif kind == "lb":
                f.lb_ips = _with(f.lb_ips, ip)
            elif kind == "external":
                f.external_ips = _with(f.external_ips, ip)
            else:
                f.other_ips = _with(f.other_ips, ip)
            if drop and kind in ("lb", "external"):
                f.etp_local = True
            elif drop and kind == "unknown":
                f.policy_unknown = True

    def _kind(self, ns: str, svc: str, f: _PortFacts, ip: object, firewalled: bool, cluster_ips: set[object] | None) -> str:
        ports = self.services.get((ns, svc), {}).values()
        if ip in (cluster_ips or ()) or any(ip in p.cluster_ips for p in ports):
            return "cluster"
        if firewalled or ip in f.lb_ips:
            return "lb"
        if ip in f.external_ips:
            return "external"
        # not an active cluster IP (the set lists them all), or the Service's cluster IP of that family is
        # another address (service-ips): an external or load-balancer IP (they look the same here)
        if cluster_ips is not None or any(is_ipv6(str(c)) == is_ipv6(str(ip)) for p in ports for c in p.cluster_ips):
            return "external"
        return "unknown"


def _inferred_service(ns: str, svc: str, ports: dict[tuple[str, str], _PortFacts]) -> ServiceSnapshot:
    sports: list[ServicePort] = []
    endpoints: dict[str, tuple[Endpoint, ...]] = {}
    cluster_ips: list[str] = []
    external_ips: list[str] = []
    lb_ips: list[str] = []
    other_ips: list[str] = []
    ranges: list[str] = []
    itp = etp = unsure = itp_seen = etp_seen = False
    timeout = None
    affinities: set[str | None] = set()
    for f in ports.values():
        f.read_chains()
    for (port_name, proto), f in sorted(ports.items(), key=lambda kv: (kv[1].port or 0, kv[0])):
        target_ports = {p for _, p in f.endpoints}
        sports.append(ServicePort(name=port_name, protocol=proto.upper(), port=f.port or 0,
                                  target_port=target_ports.pop() if len(target_ports) == 1 else None,
                                  node_port=f.node_port))
        endpoints[port_name] = tuple(Endpoint(ip=ip, port=p, ready=None, serving=None, terminating=None)
                                     for ip, p in f.endpoints)
        for src, dst in ((f.cluster_ips, cluster_ips), (f.external_ips, external_ips), (f.lb_ips, lb_ips),
                         (f.other_ips, other_ips), (f.source_ranges, ranges)):
            for x in src:
                _add_unique(dst, x)
        itp, etp, unsure = itp or f.itp_local, etp or f.etp_local, unsure or f.policy_unknown
        itp_seen, etp_seen = itp_seen or f.itp_seen, etp_seen or f.etp_seen
        timeout = timeout or f.affinity_timeout
        affinities.add(f.affinity)
    other_ips = [ip for ip in other_ips if ip not in cluster_ips and ip not in external_ips and ip not in lb_ips]
    stype: str | None = "LoadBalancer" if lb_ips else ("NodePort" if any(p.node_port for p in sports) else "ClusterIP")
    if (other_ips or external_ips) and stype != "LoadBalancer":
        # an address of unknown kind, or one led to the external chain, may be a load balancer's: an external IP
        # and a load-balancer IP are written alike (only a firewall-ips element proves the latter)
        stype = None
    # Cluster only when a chain shows it; a drop for an address of unknown kind: one of the two is Local
    itp_s = "Local" if itp else ("Cluster" if itp_seen and not unsure else None)
    external = bool(external_ips or lb_ips or other_ips) or any(p.node_port for p in sports)
    etp_s = "Local" if etp else ("Cluster" if (etp_seen or not external) and not unsure else None)
    return ServiceSnapshot(
        namespace=ns, name=svc, type=stype, cluster_ips=tuple(cluster_ips), ports=tuple(sports),
        external_ips=tuple(external_ips), load_balancer_ips=tuple(lb_ips), other_ips=tuple(other_ips),
        external_or_lb=bool(external_ips), load_balancer_source_ranges=tuple(ranges),
        external_traffic_policy=etp_s, internal_traffic_policy=itp_s,
        # (ClientIP when a chain shows it; None - not in the input - when a port's service chain is not shown)
        session_affinity="ClientIP" if timeout or "ClientIP" in affinities else (None if None in affinities else "None"),
        affinity_timeout=timeout,
        endpoints=endpoints, has_slices=False, from_api=False,
    )


def _add_unique(items: list[Any], value: object) -> None:
    if value not in items:
        items.append(value)


def _with(items: list[str] | tuple[str, ...], value: str) -> list[str]:
    """``items`` (a list, or the shared empty tuple) with ``value`` added if new."""
    out = items if isinstance(items, list) else list(items)
    _add_unique(out, value)
    return out


def _collect_policy(table: NftTable, chain_name: str, f: _PortFacts) -> None:
    chain = table.chain(chain_name)
    if chain is None:
        return
    d = _dispatch(chain)
    for ip, port in d.direct:
        f.endpoints.setdefault((ip, port), None)
    for target in _targets(d):  # what _endpoints finds, without the evidence
        ip, port, _ = _dnat(table, target)
        f.endpoints.setdefault((str(ip) if ip is not None else "?", int(port) if port is not None else None), None)
    t = _affinity_timeout(table, chain_name)
    if t is not None:
        f.affinity_timeout = t
    if f.affinity != "ClientIP":
        f.affinity = "ClientIP" if chain.once("affinity-sets", _affinity_sets) else "None"


def _collect_external(table: NftTable, chain_name: str, f: _PortFacts) -> None:
    chain = table.chain(chain_name)
    if chain is None:
        return
    for rule in chain.rules:
        v = rule.verdict
        if v and v.target and v.target != MASQ_CHAIN:
            parsed = parse_chain_name(v.target)
            if parsed and parsed[0] in ("service", "local"):
                _collect_policy(table, v.target, f)
            if parsed and parsed[0] == "local" or any(m.left.startswith("fib saddr") for m in rule.matches()):
                f.etp_local = True


# --- conntrack: connection counts instead of rule counters ----------------------------------------


def add_conntrack_counts(paths: list[PortPath], table: object) -> None:
    """Fill hop counters from a ``conntrack -L`` listing (parse.conntrack.ConntrackTable).

    For each entry path: ``connections`` = tracked flows whose original destination is the
    entry's address:port (any local address for node ports) and protocol; for each endpoint
    hop: flows whose reply comes from the endpoint ip:port. ``packets``/``bytes`` = the sum of
    both directions of those flows when conntrack accounting was on (``packets=`` fields
    present; sysctl net.netfilter.nf_conntrack_acct=1), else left None. These are flows
    tracked now, not a total since the rules were written.
    """
    from kubectl_svcpath.parse.conntrack import ConntrackTable

    assert isinstance(table, ConntrackTable)
    for pp in paths:
        proto = pp.port.protocol.lower()
        for path in pp.paths:
            if path.verdict != "forward":
                continue
            if path.entry == "nodePort":
                entries = table.to_port(proto, path.port)
            else:
                entries = table.to_address(proto, path.address, path.port)
            path.connections = len(entries)
            path.packets, path.bytes = _sum_counters(entries)
            for hop in path.endpoints:
                mine = [e for e in entries if e.reply_src == hop.ip and e.reply_sport == hop.port]
                hop.connections = len(mine)
                hop.packets, hop.bytes = _sum_counters(mine)


def _sum_counters(entries: list) -> tuple[int | None, int | None]:
    if not entries or any(e.packets is None for e in entries):
        return None, None
    return sum(e.packets for e in entries), sum(e.bytes or 0 for e in entries)

"""IPVS mode: each service port's virtual servers (VIP:port) and their real servers.

IPVS knows no Service names, so a port is matched by protocol, address and port: the
cluster IPs, external IPs and load-balancer IPs at ``port``, and every address with a
virtual server at ``nodePort`` (kube-proxy adds one per node address). Real servers become
endpoint hops with their weight; a hop's share is its weight over the sum of weights (exact
for ``rr``/``wrr`` over time, an approximation for connection-based schedulers). Weight 0 is
graceful termination: no new connections, existing ones drain.

The iptables side (``KUBE-SERVICES`` with ``-m set --match-set KUBE-CLUSTER-IP``,
``KUBE-NODE-PORT``, masquerade) is read from an iptables-save dump when one is given, and
named in ``EntryPath.chains`` before the virtual server.

Counters (``ipvsadm -Ln --stats``): ``connections`` = Conns, ``packets`` = InPkts + OutPkts,
``bytes`` = InBytes + OutBytes, cumulative since the virtual server / real server was created.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubectl_svcpath.endpoints import attach_slices
from kubectl_svcpath.modes.ipvs.model import IpvsTable, RealServer, VirtualServer
from kubectl_svcpath.path import EndpointHop, EntryPath, Evidence, PortPath
from kubectl_svcpath.modes.iptables.model import Rule, RuleSet
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot

# ipset per kind of way in (pkg/proxy/ipvs/ipset.go); IPv6 sets may carry a "KUBE-6-" prefix
_IPSETS = {
    "clusterIP": ("KUBE-CLUSTER-IP",),
    "externalIP": ("KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL"),
    "loadBalancer": ("KUBE-LOAD-BALANCER", "KUBE-LOAD-BALANCER-LOCAL", "KUBE-LOAD-BALANCER-FW"),
}


def correlate_ipvs(snapshot: ServiceSnapshot, ipvs: IpvsTable, rules: RuleSet | None, excerpt: bool = False) -> list[PortPath]:
    """``excerpt``: the input shows part of a listing, so a virtual server shown without real servers
    may have some below the cut (verdict "not-in-input", not "reject"); so may the one whose line ends the paste."""
    paths = [_correlate_port(snapshot, port, ipvs, rules) for port in snapshot.ports]
    for pp in paths:
        for path in pp.paths:
            if path.endpoints or path.verdict not in ("reject", "drop"):
                continue
            vs = ipvs.by_label(path.policy_chain) if path.policy_chain else None
            if excerpt or (vs is not None and vs.cut_below):
                path.verdict = "not-in-input"
                path.unseen = "its real servers are"
                pp.not_in_input.append(f"real servers of {path.policy_chain}: not in the input "
                                       + ("(the listing is cut)" if excerpt else "(the paste ends at its line)"))
    return paths


def _correlate_port(snapshot: ServiceSnapshot, port: ServicePort, ipvs: IpvsTable, rules: RuleSet | None) -> PortPath:
    pp = PortPath(port=port)
    if port.rules_key:  # dump-only: the virtual servers themselves, kind unknown unless a node port
        for label in port.rules_key.split("|"):
            vs = ipvs.by_label(label)
            if vs is not None:
                # the kind is unknown unless the layout (node port), kube-proxy's ipsets or a pasted description tells it
                kind = _dump_only_kind(vs.address, snapshot)
                if kind == "virtualServer" and port.node_port is not None and vs.port == port.node_port:
                    kind = "nodePort"  # (not its cluster IP's virtual server, which a description names a port of too)
                path = _entry(kind, vs, snapshot, rules)
                _ipset_evidence(path, vs, ipvs)
                pp.paths.append(path)
                if vs.persistent:
                    pp.affinity_timeout = vs.persistent
        return pp
    proto = port.protocol.upper()
    cluster_labels: set[str] = set()
    for kind, ip in snapshot.entry_addresses():
        vs = ipvs.lookup(proto, ip, port.port)
        if vs is None:
            continue
        path = _entry(kind, vs, snapshot, rules)
        _ipset_evidence(path, vs, ipvs)
        pp.paths.append(path)
        if kind == "clusterIP" and snapshot.internal_traffic_policy != "Local":
            cluster_labels.add(vs.label)
    if port.node_port:
        for vs in ipvs.on_port(proto, port.node_port):
            pp.paths.append(_entry("nodePort", vs, snapshot, rules))
    for path in pp.paths:
        if path.endpoints and any(h.affinity for h in path.endpoints):
            vs_timeout = _persistence(ipvs, path)
            if vs_timeout is not None:
                pp.affinity_timeout = vs_timeout
                break
    attach_slices(snapshot, port, pp, cluster_labels)
    return pp


def _dump_only_kind(address: str, snapshot: ServiceSnapshot) -> str:
    for kind, ips in (("clusterIP", snapshot.cluster_ips), ("externalIP", snapshot.external_ips),
                      ("loadBalancer", snapshot.load_balancer_ips)):
        if address in ips:
            return kind
    return "virtualServer"


def _ipset_evidence(path: EntryPath, vs: VirtualServer, ipvs: IpvsTable) -> None:
    """The ipset member that says what kind of address the virtual server is (an `ipset list` was given)."""
    found = ipvs.ipsets.kind_of(vs.protocol, vs.address, vs.port) if ipvs.ipsets is not None else None
    if found is not None:
        _, name, member = found
        path.evidence.append(Evidence(member.source, member.line_no or None, f"ipset {name}: {member.raw}"))


def _persistence(ipvs: IpvsTable, path: EntryPath) -> int | None:
    vs = ipvs.by_label(path.policy_chain or "")
    return vs.persistent if vs is not None else None


def _entry(kind: str, vs: VirtualServer, snapshot: ServiceSnapshot, rules: RuleSet | None) -> EntryPath:
    path = EntryPath(entry=kind, address=vs.address, port=vs.port, chains=[], policy_chain=vs.label)
    path.chains += _iptables_chains(kind, rules, path)
    path.chains.append(f"IPVS {vs.label}")
    path.evidence.append(Evidence(vs.source, vs.line_no or None, vs.raw))
    if vs.stats is not None:
        path.connections = vs.stats.conns
        path.packets = vs.stats.inpkts + vs.stats.outpkts
        path.bytes = vs.stats.inbytes + vs.stats.outbytes
    # a weight not in the input (a real server line cut short) leaves every share unknown, not the others' 100%
    total = 0 if any(rs.weight is None for rs in vs.real_servers) else sum(rs.weight or 0 for rs in vs.real_servers)
    for rs in vs.real_servers:
        path.endpoints.append(_hop(vs, rs, total))
    if not vs.real_servers:
        # IPVS finds no destination: it answers ICMP port unreachable (ip_vs_leave); kube-proxy leaves
        # the virtual server empty when a port has no endpoints, or none local with policy Local
        local = (kind == "clusterIP" and snapshot.internal_traffic_policy == "Local") or (
            kind != "clusterIP" and snapshot.external_traffic_policy == "Local")
        path.verdict = "drop" if local else "reject"
    return path


def _hop(vs: VirtualServer, rs: RealServer, total_weight: int) -> EndpointHop:
    if rs.weight is None or not total_weight:
        share = None  # a --stats listing alone carries no weights; all weights 0: no new connection goes anywhere
    else:
        share = rs.weight / total_weight
    hop = EndpointHop(ip=rs.address, port=rs.port, chain=None, probability=share, weight=rs.weight,
                      affinity=vs.persistent is not None, conns=(rs.active_conns, rs.inactive_conns))
    if rs.stats is not None:
        hop.connections = rs.stats.conns
        hop.packets = rs.stats.inpkts + rs.stats.outpkts
        hop.bytes = rs.stats.inbytes + rs.stats.outbytes
    hop.evidence.append(Evidence(rs.source, rs.line_no or None, rs.raw))
    return hop


def _iptables_chains(kind: str, rules: RuleSet | None, path: EntryPath) -> list[str]:
    """The iptables hops before IPVS, as far as the dump shows them."""
    if rules is None:
        return []
    out: list[str] = []
    services = rules.rules_of("nat", "KUBE-SERVICES")
    if kind == "nodePort":
        jump = next((r for r in services if r.target == "KUBE-NODE-PORT"), None)
        if jump is not None:
            out += ["KUBE-SERVICES", "KUBE-NODE-PORT"]
            path.evidence.append(_rule_ev(jump))
            for r in rules.rules_of("nat", "KUBE-NODE-PORT"):
                sets = _match_sets(r)
                if sets and any(s.startswith(("KUBE-NODE-PORT-", "KUBE-6-NODE-PORT-")) for s in sets):
                    out.append("ipset " + sets[0])
                    path.evidence.append(_rule_ev(r))
                    break
        return out
    wanted = _IPSETS.get(kind, ())
    for r in services:
        sets = _match_sets(r)
        if any(s in wanted or s.replace("KUBE-6-", "KUBE-", 1) in wanted for s in sets):
            if not out:
                out.append("KUBE-SERVICES")
            label = "ipset " + sets[0]
            if label not in out:
                out.append(label)
            path.evidence.append(_rule_ev(r))
    return out


def _match_sets(rule: Rule) -> list[str]:
    values = rule.options.get("--match-set", [])
    return [v for v in values if v.startswith("KUBE-")]


def _rule_ev(rule: Rule) -> Evidence:
    return Evidence(rule.source, rule.line_no or None, rule.raw)


# --- dump-only mode ---------------------------------------------------------------------------


def infer_services_ipvs(ipvs: IpvsTable, rules: RuleSet | None) -> list[ServiceSnapshot]:
    return list(each_service_ipvs(ipvs))


def each_service_ipvs(ipvs: IpvsTable) -> Iterator[ServiceSnapshot]:
    """One unnamed pseudo-Service per virtual server (IPVS holds no names), ``from_api=False``.

    What is known is what ipvsadm shows: the virtual server, its scheduler and persistence, its
    real servers and weights. What is not: the Service's name and namespace (null), its type, and
    whether the address is a cluster IP, an external or load-balancer IP or a node address. One
    exception is told by the layout: kube-proxy gives a NodePort one virtual server per node
    address, so the same port with the same real servers on several addresses is a node port.
    """
    groups: dict[tuple[str, int, tuple[tuple[str, int], ...]], list[VirtualServer]] = {}
    for vs in ipvs.virtual_servers.values():
        if vs.fwmark is not None:
            continue
        # (a real server printed by a host name has no address: its name tells it apart, -1 its port not in the input)
        reals = tuple(sorted((rs.host or rs.address, -1 if rs.port is None else rs.port) for rs in vs.real_servers))
        groups.setdefault((vs.protocol, vs.port, reals), []).append(vs)
    for (proto, port, _), servers in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], _addr_key(kv[1][0].address))):
        servers.sort(key=lambda v: _addr_key(v.address))
        # one port, one set of real servers, several addresses: in the node-port range, or on loopback (kube-proxy
        # puts nothing but node ports there, also when the real servers are cut out of a paste or there are none)
        node_port = len(servers) > 1 and (any(v.address in ("127.0.0.1", "::1") for v in servers) or (
            bool(servers[0].real_servers) and 30000 <= port <= 32767))
        groups_of = [[v] for v in servers] if not node_port else [servers]
        for group in groups_of:
            vs = group[0]
            found = ipvs.ipsets.kind_of(vs.protocol, vs.address, vs.port) if ipvs.ipsets is not None and not node_port else None
            kind = found[0] if found is not None else None
            # one address on a port kube-proxy's node-port set lists, that no set of Service addresses holds (each listed
            # whole: a cluster IP's port may be another Service's node port) and not on kube-ipvs0: a node port
            node_port = node_port or (found is None and ipvs.ipsets is not None and vs.address not in ipvs.bound
                                      and ipvs.ipsets.node_port_set(proto, port) is not None
                                      and not ipvs.ipsets.unsure_address_sets(vs.address))
            targets = {rs.port for rs in vs.real_servers}
            sport = ServicePort(name="", protocol=proto, port=None if node_port else port,
                                target_port=targets.pop() if len(targets) == 1 else None,
                                node_port=port if node_port else None,
                                rules_key="|".join(v.label for v in group))
            yield ServiceSnapshot(
                namespace="", name="", type=None, cluster_ips=(vs.address,) if kind == "clusterIP" else (), ports=(sport,),
                external_ips=(vs.address,) if kind == "externalIP" else (),
                load_balancer_ips=(vs.address,) if kind == "loadBalancer" else (),
                external_traffic_policy=None, internal_traffic_policy=None,
                session_affinity=_affinity(vs), affinity_timeout=vs.persistent,
                endpoints={"": tuple(Endpoint(ip=rs.address, port=rs.port, ready=None, serving=None,
                                              terminating=True if rs.weight == 0 else None) for rs in vs.real_servers)},
                has_slices=False, from_api=False,
            )


def _affinity(vs: VirtualServer) -> str | None:
    """ClientIP for a persistent virtual server; None (not in the input) where no line printed its flags: the
    scheduler and persistence are on the -Ln / -Sn / procfs line, not on a --stats or --rate line."""
    if vs.persistent:
        return "ClientIP"
    return "None" if vs.scheduler is not None else None


def _addr_key(address: str) -> tuple[int, str]:
    return (6 if ":" in address else 4, address)

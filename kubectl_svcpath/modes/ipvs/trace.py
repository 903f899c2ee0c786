"""Follow one packet in IPVS mode: the iptables half (KUBE-SERVICES, masquerade marks), then
the virtual server and one of its real servers, chosen by weight.

kube-proxy binds every Service address to the dummy interface ``kube-ipvs0``, so the packet is
local to the node; IPVS takes it at LOCAL_IN (after ``filter INPUT``) or LOCAL_OUT (the node's
own traffic) and rewrites the destination to a real server. The share of a real server is its
weight over the sum of weights: exact over time for ``rr``/``wrr``, an approximation for the
connection-counting schedulers (said so). Weight 0 takes no new connection. A persistent
virtual server (ClientIP affinity) sends a returning client to the real server it used before.

The ipsets kube-proxy matches (KUBE-CLUSTER-IP, KUBE-EXTERNAL-IP, KUBE-LOAD-BALANCER,
KUBE-NODE-PORT-*) are not in an iptables dump: a set an `ipset list` shows is matched on its
members. For a set not shown, the Service being traced gives its members (its addresses and the
virtual servers), and the trace says which sets it read that way. Other sets stay "unknown".
"""

from __future__ import annotations

from kubectl_svcpath.modes.ipvs.model import IpvsTable, VirtualServer, normalize_ip
from kubectl_svcpath.path import host_port
from kubectl_svcpath.modes.iptables.model import RuleSet
from kubectl_svcpath.snapshot import ServiceSnapshot
from kubectl_svcpath.modes.iptables.trace import IPVS_FILTER_HOOKS, IptablesTracer, trace_iptables
from kubectl_svcpath.trace.model import Choice, Node, Packet, Step, Trace
from kubectl_svcpath.trace.state import State
from kubectl_svcpath.wording import agrees

_WEIGHTED = ("rr", "wrr")


def _lookup(ipvs: IpvsTable, st: State) -> VirtualServer | None:
    return ipvs.lookup(st.protocol, st.dst, st.dport)


def _ipvs_step(st: State, ipvs: IpvsTable, tr: IptablesTracer) -> tuple[list[State], list[State]]:
    out: list[State] = []
    for s in [st]:
        vs = _lookup(ipvs, s)
        if vs is None:
            out.append(s)
            continue
        where = f"IPVS {vs.label}"
        s.hit(Step(where, vs.raw, vs.ref, f"virtual server, scheduler {vs.scheduler or '?'}"))
        servers = [rs for rs in vs.real_servers]
        # (a weight not in the input, a real server line cut short, may be above 0: that server is kept)
        usable = [rs for rs in servers if rs.weight is None or rs.weight > 0] if any(rs.weight is not None for rs in servers) else servers
        # a weight not in the input (a --stats listing has none) leaves every share unknown, not an even split
        unknown = any(rs.weight is None for rs in usable)
        if not servers and (vs.cut_below or ipvs.excerpt):  # (none shown, and the listing may go on past the cut)
            s.branch.reason = (f"virtual server {vs.label}'s real servers are not in the input "
                               f"({'the paste ends at its line' if vs.cut_below else 'the listing is cut'})")
            s.branch.verdict = "unknown"
            s.branch.verdict_step = s.branch.steps[-1]
            out.append(s)
            continue
        if not usable:
            s.branch.reason = f"virtual server {vs.label} has no real server with a weight above 0"
            s.branch.verdict = "dropped"
            s.branch.verdict_step = s.branch.steps[-1]
            tr.note(f"IPVS {vs.label}: no usable real server; IPVS drops new connections to it")
            out.append(s)
            continue
        if unknown:
            tr.note(f"IPVS {vs.label}: real server weights not in the input (ipvsadm -Ln prints them): no share is said, "
                    "and one of weight 0 would take no new connection")
        total = sum(rs.weight or 0 for rs in usable)
        approx = "" if (vs.scheduler or "rr") in _WEIGHTED else f" (approximate: scheduler {vs.scheduler} does not split by weight alone)"
        for rs in usable:
            factor = None if unknown else (rs.weight or 0) / total if total else 1.0 / len(usable)
            shown = host_port(rs.address, rs.port)
            pick = Choice("random", where, vs.ref, shown, factor,
                          f"IPVS weight {rs.weight if rs.weight is not None else '?'} of {'?' if unknown else total}{approx}")
            if vs.persistent:
                first = Choice("affinity", where, vs.ref, "not matched", 1.0,
                               f"a client with no connection in the last {vs.persistent} s (persistence)")
                again = Choice("affinity", where, vs.ref, "matched", None,
                               f"a returning client that used {shown} in the last {vs.persistent} s")
                forks = [s.fork(first).fork(pick), s.fork(again)]
            else:
                forks = [s.fork(pick)]
            for s2 in forks:
                what = shown if rs.host is None else f"{rs.host} (a host name: address not in the input)"
                step = s2.hit(Step(where, rs.raw, rs.ref, f"real server {what} weight {rs.weight if rs.weight is not None else '? (not in the input)'}"))
                s2.set_dnat(normalize_ip(rs.address), rs.port, step)
                if rs.port is None:  # (a cut host name lost the port: the packet's own port is no stand-in for it)
                    s2.branch.dnat = (rs.address, None)
                out.append(s2)
    done = [s for s in out if s.branch.verdict in ("dropped", "unknown")]
    return [s for s in out if s.branch.verdict not in ("dropped", "unknown")], done


def trace_ipvs(ipvs: IpvsTable, rules: RuleSet | None, packet: Packet, node: Node,
               snapshot: ServiceSnapshot | None = None) -> Trace:
    def between(states: list[State], tr: IptablesTracer) -> tuple[list[State], list[State]]:
        going, done = [], []
        for st in states:
            g, d = _ipvs_step(st, ipvs, tr)
            going += g
            done += d
        return going, done

    inferred: list[str] = []  # the sets whose members were worked out from the Service
    outside: list[str] = []  # KUBE-LOOP-BACK matches decided for a client outside the cluster

    def set_lookup(name: str, flags: str, st: State) -> bool | str | None:
        if _hairpin_of_outside(name, st):
            outside.append(name)
            return False
        listed = ipvs.ipsets.sets.get(name) if ipvs.ipsets is not None else None
        if listed is not None:
            return listed.holds(flags, st.protocol, st.dst, st.dport, st.src)
        res = _set_member(name, st, ipvs, snapshot)
        if res is not None and name not in inferred:
            inferred.append(name)
        return res

    # kube-proxy binds every Service address to kube-ipvs0: they are local to the node
    addrs = {vs.address for vs in ipvs.virtual_servers.values() if vs.address}
    local_node = Node(tuple(sorted(set(node.addresses) | addrs)), node.addresses_known)
    trace = trace_iptables(rules or RuleSet(), packet, local_node, mode="ipvs", filter_hooks=IPVS_FILTER_HOOKS,
                           set_lookup=set_lookup, between=between, dump_given=rules is not None)
    if rules is None:
        trace.notes.insert(0, "no iptables-save dump: the iptables half of IPVS mode (masquerade marks, "
                              "filter DROPs) was not evaluated")
        for b in trace.branches:
            b.masquerade = None  # decided by the iptables rules that were not given
    if snapshot is not None and rules is not None and rules.table("nat") is not None and ipvs.ipsets is None:
        trace.notes.append("ipset members (KUBE-CLUSTER-IP, KUBE-NODE-PORT-*, …) are not in the input: for this "
                           "Service they were read from its addresses and the IPVS virtual servers")
    if outside:
        trace.notes.append(f"outside: a client outside the cluster is no endpoint, so in no {outside[0]} member "
                           "(an endpoint's address, port and address again: a pod reaching itself): decided, not forked")
    if inferred and ipvs.ipsets is not None:
        trace.notes.append(f"ipset {', '.join(inferred)}: not in the `ipset list` given: for this Service "
                           f"{agrees(len(inferred), 'its members were', 'their members were')} read from its addresses "
                           "and the IPVS virtual servers")
    return trace


def _hairpin_of_outside(name: str, st: State) -> bool:
    """A packet from outside the cluster (no address given) in a KUBE-LOOP-BACK match: its source would have to
    be the endpoint's own address (the set holds endpoint ip,proto:port,ip), which such a client never is."""
    return name.replace("KUBE-6-", "KUBE-", 1) == "KUBE-LOOP-BACK" and st.src is None and st.packet.origin == "remote"


def _set_member(name: str, st: State, ipvs: IpvsTable, snapshot: ServiceSnapshot | None) -> bool | None:
    if snapshot is None:
        return None
    base = name.replace("KUBE-6-", "KUBE-")
    vs = ipvs.lookup(st.protocol, st.dst, st.dport)
    if base == "KUBE-CLUSTER-IP":
        return st.dst in snapshot.cluster_ips and vs is not None
    if base in ("KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL"):
        local = snapshot.external_traffic_policy == "Local"
        return st.dst in snapshot.external_ips and vs is not None and (base.endswith("LOCAL") == local)
    if base in ("KUBE-LOAD-BALANCER", "KUBE-LOAD-BALANCER-LOCAL"):
        local = snapshot.external_traffic_policy == "Local"
        if base.endswith("LOCAL"):
            return st.dst in snapshot.load_balancer_ips and local
        return st.dst in snapshot.load_balancer_ips
    if base.startswith("KUBE-NODE-PORT-") and not base.startswith("KUBE-NODE-PORT-LOCAL"):
        proto = base.rsplit("-", 1)[-1].lower()
        return proto == st.protocol and any(p.node_port == st.dport and p.protocol.lower() == proto for p in snapshot.ports)
    if base == "KUBE-LOOP-BACK":  # endpoint ip,port,ip: a pod reaching itself through its Service (hairpin)
        if st.src is None:
            return None
        return st.dst == st.src and any(rs.address == st.dst and rs.port == st.dport
                                        for vs in ipvs.virtual_servers.values() for rs in vs.real_servers)
    return None

"""Findings that only IPVS mode has. Pure.

The generic checks (diagnose.py) cover no-endpoints, stale-endpoint, endpoint-not-programmed,
target-port-mismatch and a port with no virtual server at all; this module adds:

- ``ipvs-deprecated`` (info): the IPVS proxier is deprecated (Kubernetes v1.35).
- ``ipvs-weight-zero``: real servers with weight 0 (graceful termination: no new connections);
  an error when every real server of a virtual server has weight 0.
- ``service-not-programmed`` for one way in only (a node port or an external IP without its
  virtual server while the cluster IP has one).
- ``ipset-member-missing``: a way in IPVS serves whose address and port (or node port) kube-proxy's
  set does not hold, where an ``ipset list`` shows that whole set.
"""

from __future__ import annotations

from kubectl_svcpath.modes.ipvs.ipset import KubeSet
from kubectl_svcpath.modes.ipvs.model import IpvsRate, IpvsTable, VirtualServer
from kubectl_svcpath.modes.ipvs.policy_sets import health_check_findings, policy_set_findings
from kubectl_svcpath.path import EndpointHop, EntryPath, Evidence, Finding, PortPath, host_port
from kubectl_svcpath.modes.iptables.model import Rule, RuleSet
from kubectl_svcpath.snapshot import ServiceSnapshot
from kubectl_svcpath.wording import agrees, counted


def _where(path: EntryPath) -> str:
    if path.entry == "nodePort":
        return f"node port {host_port(path.address or '*', path.port)}"
    return f"{path.entry} {host_port(path.address or '?', path.port)}"


def check_ipvs(snapshot: ServiceSnapshot, paths: list[PortPath], ipvs: IpvsTable, rules: RuleSet | None = None) -> list[Finding]:
    out: list[Finding] = [Finding(
        "ipvs-deprecated", "info",
        "kube-proxy runs in IPVS mode, which is deprecated since Kubernetes v1.35",
        detail=["Upstream plans to put IPVS mode behind a feature gate (KEP-5495) and make nftables the default mode."],
        action="plan a move to --proxy-mode=nftables (or iptables)",
    )]
    said: set[tuple[str, str]] = set()
    for pp in paths:
        out.extend(_check_weights(snapshot, pp))
        out.extend(_check_partial(snapshot, pp, ipvs))
        out.extend(_check_sets(pp, ipvs, rules))
        out.extend(policy_set_findings(snapshot, pp, ipvs, said))
    out.extend(health_check_findings(snapshot, paths, ipvs))
    return out


# the sets kube-proxy puts each way in to a Service port in (pkg/proxy/ipvs/proxier.go syncProxyRules): any one
# of them holding it will do (an external IP goes to the -LOCAL set alone with externalTrafficPolicy Local)
_SETS_OF = {"clusterIP": ("KUBE-CLUSTER-IP",), "externalIP": ("KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL"),
            "loadBalancer": ("KUBE-LOAD-BALANCER",)}


def _wanted(entry: str, vs: VirtualServer) -> tuple[tuple[str, ...], str, str] | None:
    """(the sets that should hold this way in, its member as ipset prints it, the match's flags)."""
    six = "KUBE-6-" if ":" in vs.address else "KUBE-"
    if entry == "nodePort":
        if vs.protocol == "SCTP":  # (hash:ip,port, one member per node address)
            return (six + "NODE-PORT-SCTP-HASH",), f"{vs.address},sctp:{vs.port}", "dst,dst"
        return (f"{six}NODE-PORT-{vs.protocol}",), str(vs.port), "dst"
    names = _SETS_OF.get(entry)
    if names is None:
        return None
    return tuple(six + n.removeprefix("KUBE-") for n in names), f"{vs.address},{vs.protocol.lower()}:{vs.port}", "dst,dst"


def _check_sets(pp: PortPath, ipvs: IpvsTable, rules: RuleSet | None) -> list[Finding]:
    """A way in IPVS serves that kube-proxy's own set lacks (each set the listing shows whole): the iptables
    rules that match the set do not take its traffic for the Service's."""
    sets = ipvs.ipsets.sets if ipvs.ipsets is not None else {}
    out: list[Finding] = []
    said: set[tuple[str, str]] = set()
    for path in pp.paths:
        vs = ipvs.by_label(path.policy_chain or "")
        wanted = _wanted(path.entry or "", vs) if vs is not None and vs.address else None
        if vs is None or wanted is None:
            continue
        names, member, flags = wanted
        listed = [sets.get(n) for n in names]
        if any(k is None or not k.whole for k in listed) or (names[0], member) in said:
            continue  # (a set the input does not show whole may hold it)
        whole = [k for k in listed if k is not None]
        if any(k.holds(flags, vs.protocol, vs.address, vs.port, None) is True for k in whole):
            continue
        said.add((names[0], member))
        out.append(_member_missing(pp, path, vs, whole, member, _rejected_by(rules, sets, vs)))
    return out


def _rejected_by(rules: RuleSet | None, sets: dict[str, KubeSet], vs: VirtualServer) -> tuple[Rule | None, bool | str]:
    """filter KUBE-IPVS-FILTER's REJECT of new connections to kube-ipvs0's addresses (KUBE-IPVS-IPS) when the input
    holds it, and whether that set holds this virtual server's address (True, False, or why it is not known)."""
    reject = next((r for r in (rules.rules_of("filter", "KUBE-IPVS-FILTER") if rules is not None else [])
                   if r.target == "REJECT" and any(v.split(" ")[0].replace("KUBE-6-", "KUBE-", 1) == "KUBE-IPVS-IPS"
                                                   for v in r.options.get("--match-set", []))), None)
    ips = sets.get(("KUBE-6-" if ":" in vs.address else "KUBE-") + "IPVS-IPS")
    held = ips.holds("dst", vs.protocol, vs.address, vs.port, None) if ips is not None else "KUBE-IPVS-IPS is not in the input"
    return reject, held


def _member_missing(pp: PortPath, path: EntryPath, vs: VirtualServer, sets: list[KubeSet], member: str,
                    filtered: tuple[Rule | None, bool | str]) -> Finding:
    names = " or ".join(k.name for k in sets)
    what = f"node port {vs.port}" if path.entry == "nodePort" else f"{path.entry} {host_port(vs.address, vs.port)}"
    evidence = [Evidence(vs.source, vs.line_no or None, vs.raw).line] + [
        Evidence(k.source, k.line_no, f"Name: {k.name} ({counted(len(k.members) + len(k.nets), 'member')}, all listed)").line
        for k in sets]
    held = f"The listing shows all of {names}'s members, and {member} is not among them."
    if path.entry == "nodePort":
        detail = [held, f"kube-proxy adds each node port to {sets[0].name} when it syncs; nat KUBE-NODE-PORT marks "
                  "traffic to the ports it holds for masquerade, so connections to this one are not masqueraded."]
        return Finding("ipset-member-missing", "warning", f"port {pp.port.label}: kube-proxy's {names} does not hold "
                       f"{what}, which IPVS serves ({vs.label})", port=pp.port.name, evidence=evidence, detail=detail,
                       why="connections to it are not marked for masquerade (nat KUBE-NODE-PORT)",
                       action="check kube-proxy's log on this node for ipset errors")
    reject, bound = filtered
    detail = [held, f"kube-proxy adds each {path.entry} address and port to {sets[0].name} when it syncs; "
              "nat KUBE-SERVICES marks traffic to what it holds for masquerade."]
    rejected = reject is not None and bound is True
    if reject is not None:
        evidence.append(Evidence(reject.source, reject.line_no or None, reject.raw).line)
    if rejected:
        detail.append("filter KUBE-IPVS-FILTER lets through the addresses and ports kube-proxy's sets hold and rejects "
                      f"other new connections to the addresses on kube-ipvs0 (KUBE-IPVS-IPS, which holds {vs.address}): "
                      f"new connections to {host_port(vs.address, vs.port)} are rejected.")
    elif reject is None:
        detail.append("The input shows no REJECT in filter KUBE-IPVS-FILTER (kube-proxy's filter of new connections "
                      "to kube-ipvs0's addresses its sets do not hold): whether such connections are rejected is not in it.")
    elif bound is not False:
        detail.append(f"filter KUBE-IPVS-FILTER rejects new connections to kube-ipvs0's addresses its sets do not hold; "
                      f"whether KUBE-IPVS-IPS holds {vs.address} is not in the input ({bound}).")
    return Finding("ipset-member-missing", "error" if rejected else "warning",
                   f"port {pp.port.label}: kube-proxy's {names} does not hold {what}, which IPVS serves ({vs.label})",
                   port=pp.port.name, evidence=evidence, detail=detail,
                   why=("new connections to it are rejected (filter KUBE-IPVS-FILTER)" if rejected else
                        "traffic to it is not marked for masquerade (nat KUBE-SERVICES)"),
                   action="check kube-proxy's log on this node for ipset errors")


def _check_weights(snapshot: ServiceSnapshot, pp: PortPath) -> list[Finding]:
    out: list[Finding] = []
    for path in pp.paths:
        zero = [h for h in path.endpoints if h.weight == 0]
        if not zero:
            continue
        evidence = [ev.line for h in zero for ev in h.evidence[:1]]
        names = ", ".join(h.hostport for h in zero)
        if len(zero) == len(path.endpoints):
            out.append(Finding(
                "ipvs-weight-zero", "error",
                f"port {pp.port.label}: every real server of {path.policy_chain} has weight 0: new connections to "
                f"{_where(path)} find no destination",
                port=pp.port.name, evidence=evidence,
                detail=[f"Weight 0 ({names}) is kube-proxy's graceful termination: the endpoints are terminating "
                        "and only their open connections are served until they drain."] + _draining(zero),
                action="check why no ready pod replaced them: kubectl get pods -l <selector> -o wide",
            ))
            continue
        gone = [h for h in zero if h.in_slices is False]
        detail = [f"Weight 0 is kube-proxy's graceful termination: {names} {agrees(len(zero), 'gets', 'get')} no new connections; "
                  "open ones drain, then kube-proxy removes the real server."] + _draining(zero)
        if gone:
            detail.append("No EndpointSlice lists " + ", ".join(h.hostport for h in gone)
                          + " any more: " + agrees(len(gone), "it stays until its connections close", "they stay until their connections close")
                          + " (--ipvs-tcp-timeout etc.).")
        out.append(Finding(
            "ipvs-weight-zero", "info",
            f"port {pp.port.label}: {counted(len(zero), 'real server')} of {path.policy_chain} "
            f"{agrees(len(zero), 'has', 'have')} weight 0 (terminating)",
            port=pp.port.name, evidence=evidence, detail=detail,
        ))
    return out


def _draining(hops: list[EndpointHop]) -> list[str]:
    """What the listing shows still open on weight-0 real servers (ipvsadm's ActiveConn/InActConn)."""
    shown = [(h, h.conns) for h in hops if h.conns is not None and h.conns != (None, None)]
    if not shown:
        return []
    return ["Still open (ipvsadm -Ln): " + "; ".join(
        f"{h.hostport} {'?' if a is None else a} active, {'?' if i is None else i} inactive" for h, (a, i) in shown)]


def _check_partial(snapshot: ServiceSnapshot, pp: PortPath, ipvs: IpvsTable) -> list[Finding]:
    if not pp.paths or ipvs.excerpt:
        # (no path: the generic service-not-programmed finding covers a port with no virtual server; an
        # excerpt: a virtual server it does not show may exist)
        return []
    proto = pp.port.protocol.upper()
    out: list[Finding] = []
    for kind, ip in snapshot.entry_addresses():
        if ipvs.lookup(proto, ip, pp.port.port) is None:
            out.append(_no_virtual_server(pp, f"{kind} {host_port(ip, pp.port.port)}/{proto}",
                                          "Other ways in to this port have virtual servers, so kube-proxy runs; it has not synced this change.",
                                          "check kube-proxy's logs on this node"))
    if pp.port.node_port and not ipvs.on_port(proto, pp.port.node_port):
        out.append(_no_virtual_server(pp, f"node port {pp.port.node_port}/{proto} on any address",
                                      "kube-proxy creates one virtual server per node address for each node port.",
                                      "check kube-proxy's logs on this node (and --nodeport-addresses)"))
    return out


def _no_virtual_server(pp: PortPath, what: str, detail: str, action: str) -> Finding:
    return Finding("service-not-programmed", "error", f"port {pp.port.label}: no IPVS virtual server for {what}",
                   port=pp.port.name, detail=[detail], action=action)


def _unnamed(snapshot: ServiceSnapshot | None, ipvs: IpvsTable) -> list[str]:
    """A virtual server without the API: say what ipvsadm cannot, and the command that can."""
    if snapshot is None or snapshot.name or not snapshot.ports:
        return []
    port = snapshot.ports[0]
    if not port.rules_key:
        return []
    labels = port.rules_key.split("|")
    listed = ipvs.ipsets.node_port_set(port.protocol, port.node_port) if port.node_port and ipvs.ipsets else None
    if port.node_port and len(labels) == 1 and listed is not None:
        return [f"IPVS names no Service: {labels[0]} is a node port on a node address (kube-proxy's ipset {listed[0]} "
                f"lists {port.node_port}); which Service: kubectl get svc -A | grep -w {port.node_port}"]
    if port.node_port:
        same = "and the same real servers" if any(snapshot.endpoints.values()) else "(loopback among them)"
        return [f"IPVS names no Service: {', '.join(labels)} share one port {same}, as kube-proxy "
                f"writes a node port on each node address; which Service: kubectl get svc -A | grep -w {port.node_port}"]
    address = labels[0].split(" ", 1)[1].rsplit(":", 1)[0].strip("[]")
    for kind, ips in (("a cluster IP", snapshot.cluster_ips), ("an external IP", snapshot.external_ips),
                      ("a load-balancer IP", snapshot.load_balancer_ips)):
        if address in ips:  # kube-proxy's ipset lists it (see the path's evidence)
            return [f"IPVS names no Service: {labels[0]} is {kind} (kube-proxy's ipset lists it); which Service: "
                    f"kubectl get svc -A -o wide | grep -w {address}"]
    bound = ipvs.bound.get(address)
    if bound is not None:  # kube-proxy binds the Service addresses it serves to kube-ipvs0, never a node's own
        return [f"IPVS names no Service: {labels[0]}'s address is on kube-ipvs0 ({bound.source} line {bound.line_no}), "
                "where kube-proxy binds Service addresses: a cluster, external or load-balancer IP, not a node address; "
                f"which Service: kubectl get svc -A -o wide | grep -w {address}"]
    listed = ipvs.ipsets.node_port_set(port.protocol, port.port) if ipvs.ipsets is not None and port.port else None
    if listed is not None and ipvs.ipsets is not None:  # (and no set of Service addresses shown whole: correlate.py)
        return [f"IPVS names no Service: {labels[0]} may be a node port on a node address (kube-proxy's ipset {listed[0]} "
                f"lists {port.port}, a node port of some Service) or a cluster, external or load-balancer IP whose port is "
                f"{port.port}: which is not in the input ({'; '.join(ipvs.ipsets.unsure_address_sets(address))}); "
                f"which Service: kubectl get svc -A -o wide | grep -w -e {address} -e {port.port}"]
    return [f"IPVS names no Service: {labels[0]} may be a cluster IP, an external or load-balancer IP or a node "
            f"address; which Service: kubectl get svc -A -o wide | grep -w {address}"]


_RATES_SHOWN = 8  # real servers whose rates a note spells out, per virtual server


def _service_virtual_servers(ipvs: IpvsTable, paths: list[PortPath]) -> list[VirtualServer]:
    """This Service's virtual servers, as correlation found them for its ports (each path names its own), once each."""
    found: dict[tuple[str, str, int], VirtualServer] = {}
    for pp in paths:
        for path in pp.paths:
            vs = ipvs.by_label(path.policy_chain) if path.policy_chain else None
            if vs is not None:
                found.setdefault(vs.key, vs)
    return list(found.values())


def _rate_words(rate: IpvsRate) -> str:
    return (f"{rate.cps} conn/s, {rate.inpps} pkt/s in, {rate.outpps} out, {rate.inbps} B/s in, {rate.outbps} out")


def _rates(ipvs: IpvsTable, paths: list[PortPath]) -> list[str]:
    """What an `ipvsadm -Ln --rate` listing shows of this Service: rates per second, one note per virtual server."""
    if not any("rate" in d.forms for d in ipvs.dumps):
        return []
    out = []
    for vs in _service_virtual_servers(ipvs, paths):
        if vs.rate is None:
            continue
        shown = [(rs, rs.rate) for rs in vs.real_servers if rs.rate is not None]
        parts = [f"{rs.host or host_port(rs.address, rs.port)} {_rate_words(rate)}" for rs, rate in shown[:_RATES_SHOWN]]
        more = f"; and {counted(len(shown) - _RATES_SHOWN, 'real server')} more" if len(shown) > _RATES_SHOWN else ""
        where = f" ({vs.source} line {vs.line_no})" if vs.line_no else ""
        out.append(f"ipvsadm --rate{where}, rates per second (the kernel's running estimate, not counters): "
                   f"{vs.label} {_rate_words(vs.rate)}" + "".join(f"; -> {p}" for p in parts) + more)
    return out


def notes_ipvs(ipvs: IpvsTable, rules: RuleSet | None = None, snapshot: ServiceSnapshot | None = None,
               paths: list[PortPath] | None = None) -> list[str]:
    """Report.notes for IPVS mode (``paths``: the Service's port paths, each naming its virtual server)."""
    # (the deprecation is the ipvs-deprecated finding's; said here too, each report said it twice)
    notes = _unnamed(snapshot, ipvs) + [n for d in ipvs.dumps for n in d.notices]
    rates = _rates(ipvs, paths or [])
    if not ipvs.has_stats and rates:
        notes.append("no ipvsadm --stats listing: no hop's totals are known, only the --rate listing's rates per second "
                     "(ipvsadm -Ln --stats --exact gives totals)")
    elif not ipvs.has_stats:
        notes.append("no ipvsadm --stats listing: each hop's traffic is not known (ipvsadm -Ln --stats --exact)")
    elif any(not d.exact for d in ipvs.dumps if "stats" in d.forms):  # (only beside a --stats listing: counters it has)
        notes.append("counters are ipvsadm --stats totals since each virtual/real server was created; without --exact, "
                     "large ones are rounded down (K/M/G/T)")
    else:
        notes.append("counters are ipvsadm --stats totals since each virtual/real server was created")
    forms = {f for d in ipvs.dumps for f in d.forms}
    if not ipvs.has_weights and not forms & {"list", "rules", "persistent-conn"}:
        notes.append("no ipvsadm -Ln listing: weights, scheduler, persistence and each real server's active and "
                     "inactive connections are unknown (ipvsadm -Ln)")
    elif not forms & {"list", "persistent-conn", "thresholds"} and ipvs.virtual_servers:
        notes.append("no ipvsadm -Ln listing: each real server's active and inactive connections are unknown (ipvsadm -Ln)")
    notes.extend(rates)
    if rules is None:
        notes.append("no iptables-save dump: the iptables half of IPVS mode (KUBE-SERVICES, ipset matches, masquerade) is not shown")
    return notes

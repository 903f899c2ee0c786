"""Findings that only IPVS mode has. Pure.

The generic checks (diagnose.py) cover no-endpoints, stale-endpoint, endpoint-not-programmed,
target-port-mismatch and a port with no virtual server at all; this module adds:

- ``ipvs-deprecated`` (info): the IPVS proxier is deprecated (Kubernetes v1.35).
- ``ipvs-weight-zero``: real servers with weight 0 (graceful termination: no new connections);
  an error when every real server of a virtual server has weight 0.
- ``service-not-programmed`` for one way in only (a node port or an external IP without its
  virtual server while the cluster IP has one).
"""

from __future__ import annotations

from kubectl_svcpath.modes.ipvs.model import IpvsTable
from kubectl_svcpath.path import EndpointHop, EntryPath, Finding, PortPath, host_port
from kubectl_svcpath.modes.iptables.model import RuleSet
from kubectl_svcpath.snapshot import ServiceSnapshot
from kubectl_svcpath.wording import agrees, counted


def _where(path: EntryPath) -> str:
    if path.entry == "nodePort":
        return f"node port {host_port(path.address or '*', path.port)}"
    return f"{path.entry} {host_port(path.address or '?', path.port)}"


def check_ipvs(snapshot: ServiceSnapshot, paths: list[PortPath], ipvs: IpvsTable) -> list[Finding]:
    out: list[Finding] = [Finding(
        "ipvs-deprecated", "info",
        "kube-proxy runs in IPVS mode, which is deprecated since Kubernetes v1.35",
        detail=["Upstream plans to put IPVS mode behind a feature gate (KEP-5495) and make nftables the default mode."],
        action="plan a move to --proxy-mode=nftables (or iptables)",
    )]
    for pp in paths:
        out.extend(_check_weights(snapshot, pp))
        out.extend(_check_partial(snapshot, pp, ipvs))
    return out


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
    return [f"IPVS names no Service: {labels[0]} may be a cluster IP, an external or load-balancer IP or a node "
            f"address; which Service: kubectl get svc -A -o wide | grep -w {address}"]


def notes_ipvs(ipvs: IpvsTable, rules: RuleSet | None = None, snapshot: ServiceSnapshot | None = None) -> list[str]:
    """Report.notes for IPVS mode."""
    notes = _unnamed(snapshot, ipvs) + [n for d in ipvs.dumps for n in d.notices] + ["IPVS mode is deprecated since Kubernetes v1.35; counters are ipvsadm --stats totals since each virtual/real server was created"]
    if not ipvs.has_stats:
        notes.append("no ipvsadm --stats listing: each hop's traffic is not known (ipvsadm -Ln --stats --exact)")
    elif any(not d.exact for d in ipvs.dumps if "stats" in d.forms):
        notes.append("ipvsadm --stats without --exact: large counters are rounded down (K/M/G/T)")
    forms = {f for d in ipvs.dumps for f in d.forms}
    if not ipvs.has_weights and not forms & {"list", "rules", "persistent-conn"}:
        notes.append("no ipvsadm -Ln listing: weights, scheduler, persistence and each real server's active and "
                     "inactive connections are unknown (ipvsadm -Ln)")
    elif not forms & {"list", "persistent-conn", "thresholds"} and ipvs.virtual_servers:
        notes.append("no ipvsadm -Ln listing: each real server's active and inactive connections are unknown (ipvsadm -Ln)")
    if rules is None:
        notes.append("no iptables-save dump: the iptables half of IPVS mode (KUBE-SERVICES, ipset matches, masquerade) is not shown")
    return notes

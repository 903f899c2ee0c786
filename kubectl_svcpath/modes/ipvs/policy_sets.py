"""``ipset-member-missing`` for the sets kube-proxy fills from a Service's policies (IPVS mode). Pure.

Besides the set of each way in (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …: modes/ipvs/checks.py), kube-proxy adds
(pkg/proxy/ipvs/proxier.go syncProxyRules; the iptables rules that match them: ``ipsetWithIptablesChain``):

- a node port of a Service with externalTrafficPolicy Local to ``KUBE-NODE-PORT-LOCAL-TCP``/``-UDP`` (bitmap:port)
  or ``KUBE-NODE-PORT-LOCAL-SCTP-HASH`` (node address,sctp:port): nat KUBE-NODE-PORT RETURNs (no masquerade) for
  what it holds, before marking KUBE-NODE-PORT-TCP's ports for masquerade;
- a load-balancer IP,proto:port of such a Service to ``KUBE-LOAD-BALANCER-LOCAL``: nat KUBE-LOAD-BALANCER RETURNs
  for it before marking the rest;
- one of a Service with loadBalancerSourceRanges to ``KUBE-LOAD-BALANCER-FW`` (filter KUBE-PROXY-FIREWALL sends what
  it holds to KUBE-SOURCE-RANGES-FIREWALL) and IP,proto:port,CIDR for each range to
  ``KUBE-LOAD-BALANCER-SOURCE-CIDR`` (KUBE-SOURCE-RANGES-FIREWALL RETURNs for those sources, drops the others);
- a Service's healthCheckNodePort to ``KUBE-HEALTH-CHECK-NODE-PORT`` (filter KUBE-NODE-PORT ACCEPTs it).

The policies are the API's (a dump-only Service's are read off these very sets): nothing is said without it, nor
of a set the listing does not show whole. IPv6 sets are ``KUBE-6-…``, cut to ipset's 31 characters.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from kubectl_svcpath.modes.ipvs.ipset import KubeSet
from kubectl_svcpath.modes.ipvs.model import IpvsTable, VirtualServer, normalize_ip
from kubectl_svcpath.path import EntryPath, Evidence, Finding, PortPath, host_port
from kubectl_svcpath.snapshot import ServiceSnapshot
from kubectl_svcpath.wording import counted

ACTION = "check kube-proxy's log on this node for ipset errors"


@dataclass(frozen=True, slots=True)
class _Want:
    name: str  # the set
    member: str  # as ipset prints it
    held: Callable[[KubeSet], bool]
    what: str  # the way in, in words
    why: str  # what its absence does (the finding's why)
    detail: str
    severity: Literal["error", "warning"] = "warning"
    action: str = ACTION
    held_words: str = ""  # the finding's first detail line, when not "the listing shows all of it, and not this"


def _named(six: bool, rest: str) -> str:
    return ("KUBE-6-" + rest)[:31] if six else "KUBE-" + rest  # (kube-proxy cuts a name to ipset's 31 characters)


def policy_set_findings(snapshot: ServiceSnapshot, pp: PortPath, ipvs: IpvsTable, said: set[tuple[str, str]]) -> list[Finding]:
    """What the sets of the Service's policies lack, for each way in IPVS serves (``said``: (set, member) already told)."""
    sets = ipvs.ipsets.sets if ipvs.ipsets is not None else {}
    if not snapshot.from_api or not sets:
        return []
    out: list[Finding] = []
    for path in pp.paths:
        vs = ipvs.by_label(path.policy_chain or "")
        if vs is None or not vs.address:
            continue
        for want in _wants(snapshot, path, vs):
            k = sets.get(want.name)
            if k is None or not k.whole or want.held(k) or (want.name, want.member) in said:
                continue
            said.add((want.name, want.member))
            out.append(_finding(pp, vs, k, want))
    return out


def _wants(snapshot: ServiceSnapshot, path: EntryPath, vs: VirtualServer) -> list[_Want]:
    six = ":" in vs.address
    proto = vs.protocol.lower()
    local = snapshot.external_traffic_policy == "Local"
    if path.entry == "nodePort" and local:
        if vs.protocol == "SCTP":
            name, member, flags = _named(six, "NODE-PORT-LOCAL-SCTP-HASH"), f"{vs.address},sctp:{vs.port}", "dst,dst"
        else:
            name, member, flags = _named(six, f"NODE-PORT-LOCAL-{vs.protocol}"), str(vs.port), "dst"
        return [_Want(name, member, _holds(flags, vs), f"node port {vs.port}",
                      "connections to it are masqueraded: the endpoints see the node's address, not the client's",
                      f"nat KUBE-NODE-PORT returns (no masquerade) for what {name} holds and marks the other node ports "
                      "for masquerade: externalTrafficPolicy Local keeps the client's source address only for those.")]
    if path.entry != "loadBalancer":
        return []
    member = f"{vs.address},{proto}:{vs.port}"
    what = f"loadBalancer {host_port(vs.address, vs.port)}"
    out: list[_Want] = []
    if local:
        name = _named(six, "LOAD-BALANCER-LOCAL")
        out.append(_Want(name, member, _holds("dst,dst", vs), what,
                         "connections to it are masqueraded: the endpoints see the node's address, not the client's",
                         f"nat KUBE-LOAD-BALANCER returns (no masquerade) for what {name} holds and marks the rest for "
                         "masquerade: externalTrafficPolicy Local keeps the client's source address only for those."))
    ranges = [r for r in snapshot.load_balancer_source_ranges if (":" in r) == six]
    if ranges:
        fw = _named(six, "LOAD-BALANCER-FW")
        out.append(_Want(fw, member, _holds("dst,dst", vs), what,
                         f"its loadBalancerSourceRanges ({', '.join(ranges)}) are not enforced: any source reaches it",
                         f"filter KUBE-PROXY-FIREWALL sends what {fw} holds to KUBE-SOURCE-RANGES-FIREWALL, which lets "
                         "through only the ranges' sources."))
        cidrs = _named(six, "LOAD-BALANCER-SOURCE-CIDR")
        out += [_Want(cidrs, f"{member},{r}", _holds_net(vs, r), f"{what} from {r}",
                      f"connections from {r}, a loadBalancerSourceRange, are dropped (filter KUBE-SOURCE-RANGES-FIREWALL)",
                      f"filter KUBE-SOURCE-RANGES-FIREWALL returns for the sources {cidrs} holds and drops the others.")
                if _prefix(r) != 0 else _every_source(cidrs, f"{member},{r}", _holds_net(vs, r), f"{what} from {r}", r,
                                                      all(_prefix(x) == 0 for x in ranges))
                for r in ranges]
    return out


def _prefix(cidr: str) -> int | None:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen
    except ValueError:
        return None


def _every_source(name: str, member: str, held: Callable[[KubeSet], bool], what: str, cidr: str, alone: bool) -> _Want:
    """A range of prefix length 0 (0.0.0.0/0, ::/0): ipset's hash:ip,port,net stores no such network (ipset: "The value
    of the CIDR parameter of the IP address is invalid"), so kube-proxy's add fails at every sync (its log: "Failed to
    add ..."), and KUBE-SOURCE-RANGES-FIREWALL drops what the other ranges do not let through."""
    halves = "0.0.0.0/1 and 128.0.0.0/1" if ":" not in cidr else "::/1 and 8000::/1"
    return _Want(name, member, held, what,
                 ("every connection from outside this node is dropped (filter KUBE-SOURCE-RANGES-FIREWALL)" if alone else
                  f"connections from {cidr} that the other loadBalancerSourceRanges do not cover are dropped "
                  "(filter KUBE-SOURCE-RANGES-FIREWALL)"),
                 f"filter KUBE-SOURCE-RANGES-FIREWALL returns for the sources {name} holds and drops the others "
                 "(KUBE-LOAD-BALANCER-SOURCE-IP lets through only the load-balancer address itself, the node's own connections "
                 "looped back). kube-proxy adds "
                 f"{member} at every sync, and ipset refuses it: a hash:ip,port,net set stores no network of prefix "
                 "length 0 (\"The value of the CIDR parameter of the IP address is invalid\"; kube-proxy's log: "
                 "\"Failed to add ...\"). A range that lets every source in does not work in IPVS mode.",
                 severity="error" if alone else "warning",
                 action=f"drop {cidr} from the Service's loadBalancerSourceRanges (none at all lets every source in), "
                        f"or write it as {halves}",
                 held_words=f"The listing shows all of {name}'s members, and {member} is not among them: ipset cannot hold it.")


def _holds(flags: str, vs: VirtualServer) -> Callable[[KubeSet], bool]:
    return lambda k: k.holds(flags, vs.protocol, vs.address, vs.port, None) is True


def _holds_net(vs: VirtualServer, cidr: str) -> Callable[[KubeSet], bool]:
    def held(k: KubeSet) -> bool:
        try:
            net = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            return True  # (a range the API holds that is no network: nothing to look for)
        return (normalize_ip(vs.address), vs.protocol.upper(), vs.port, net) in {key for key, _ in k.nets}
    return held


def _finding(pp: PortPath, vs: VirtualServer, k: KubeSet, want: _Want) -> Finding:
    evidence = [Evidence(vs.source, vs.line_no or None, vs.raw).line,
                Evidence(k.source, k.line_no, f"Name: {k.name} ({counted(len(k.members) + len(k.nets), 'member')}, all listed)").line]
    return Finding("ipset-member-missing", want.severity,
                   f"port {pp.port.label}: kube-proxy's {k.name} does not hold {want.what}, which IPVS serves ({vs.label})",
                   port=pp.port.name, evidence=evidence,
                   detail=[want.held_words or f"The listing shows all of {k.name}'s members, and {want.member} is not among them.",
                           want.detail],
                   why=want.why, action=want.action)


def health_check_findings(snapshot: ServiceSnapshot, paths: list[PortPath], ipvs: IpvsTable) -> list[Finding]:
    """The Service's healthCheckNodePort (API) that kube-proxy's KUBE-HEALTH-CHECK-NODE-PORT lacks, where listed whole."""
    port = snapshot.health_check_node_port
    sets = ipvs.ipsets.sets if ipvs.ipsets is not None else {}
    if not snapshot.from_api or not port or not paths:
        return []
    out: list[Finding] = []
    for name in ("KUBE-HEALTH-CHECK-NODE-PORT", "KUBE-6-HEALTH-CHECK-NODE-PORT"):
        k = sets.get(name)
        if k is None or not k.whole or k.holds("dst", "TCP", "", port, None) is True:
            continue
        out.append(Finding(
            "ipset-member-missing", "warning",
            f"kube-proxy's {name} does not hold the Service's health check node port {port}",
            port=paths[0].port.name,
            evidence=[Evidence(k.source, k.line_no, f"Name: {k.name} ({counted(len(k.members), 'member')}, all listed)").line],
            detail=[f"The listing shows all of {name}'s members, and {port} is not among them.",
                    f"filter KUBE-NODE-PORT accepts the health check node ports {name} holds: the load balancer's "
                    "checks of this node are not accepted there, and where the node's INPUT policy drops them they fail."],
            why="the load balancer's health checks of this node are not accepted by kube-proxy's filter rules",
            action=ACTION))
    return out

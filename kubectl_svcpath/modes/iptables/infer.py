"""Dump-only mode: rebuild Services from kube-proxy's iptables rules when no API objects are given.

kube-proxy's comments name the service port ("ns/name:port cluster IP"); the chain it jumps
to must hash from that name, which is checked, so a wrong comment cannot invent a Service.
Endpoints come from the DNAT targets; their readiness is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.modes.iptables.model import Rule, RuleSet, bare_address, split_hostport
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot

_ENTRY_COMMENT = re.compile(r"^(?P<spn>[^\s/]+/[^\s:]+(?::[^\s]*)?) (?P<kind>cluster IP|external IP|loadbalancer IP)$")
_NOENDPOINT_COMMENT = re.compile(r"^(?P<spn>[^\s/]+/[^\s:]+(?::[^\s]*)?) has no (?:local )?endpoints$")
_SPN = re.compile(r"^(?P<ns>[^/\s]+)/(?P<name>[^:\s]+)(?::(?P<port>\S*))?$")


@dataclass
class _Draft:
    namespace: str
    name: str
    cluster_ips: list[str] = field(default_factory=list)
    external_ips: list[str] = field(default_factory=list)
    lb_ips: list[str] = field(default_factory=list)
    ports: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)  # (portname, proto) -> fields
    local: bool = False


def infer_services_iptables(rules: RuleSet, only: tuple[str | None, str] | None = None) -> list[ServiceSnapshot]:
    """Every Service the rules describe; ``only=(namespace or None, name)`` reads just that one's rules."""
    drafts: dict[tuple[str, str], _Draft] = {}
    if only is None:
        def chain_rules(table: str, chain: str) -> list[Rule]:
            return rules.rules_of(table, chain)
    else:
        ns, name = only
        key = f"{ns}/{name}" if ns else f"/{name}"

        def chain_rules(table: str, chain: str) -> list[Rule]:
            return rules.rules_mentioning(table, chain, (key,))

    def draft_for(spn: str) -> tuple[_Draft, str] | None:
        m = _SPN.match(spn)
        if not m:
            return None
        key = (m.group("ns"), m.group("name"))
        d = drafts.get(key)
        if d is None:
            d = drafts[key] = _Draft(*key)
        return d, m.group("port") or ""

    for rule in chain_rules("nat", "KUBE-SERVICES"):
        m = _ENTRY_COMMENT.match(rule.comment or "")
        if not m or not rule.target or not _hash_matches(m.group("spn"), rule):
            continue
        got = draft_for(m.group("spn"))
        if got is None:
            continue
        d, pname = got
        proto = (rule.protocol or "tcp").lstrip("!").upper()
        entry = d.ports.setdefault((pname, proto), {"port": rule.dport_number})
        if entry.get("port") is None:
            entry["port"] = rule.dport_number
        addr = bare_address(rule.dest_addr)
        bucket = {"cluster IP": d.cluster_ips, "external IP": d.external_ips, "loadbalancer IP": d.lb_ips}[m.group("kind")]
        if addr and addr not in bucket:
            bucket.append(addr)
        if rule.target.startswith("KUBE-SVL-"):
            d.local = True
        entry.setdefault("chain", rule.target)
    for rule in chain_rules("nat", "KUBE-NODEPORTS"):
        comment = rule.comment or ""
        if not _SPN.match(comment) or not rule.target or not _hash_matches(comment, rule):
            continue
        got = draft_for(comment)
        if got is None:
            continue
        d, pname = got
        proto = (rule.protocol or "tcp").lstrip("!").upper()
        entry = d.ports.setdefault((pname, proto), {"port": None})
        entry["nodePort"] = rule.dport_number
        entry["viaNodePorts"] = True  # even when the printed rule lost its --dport
        entry.setdefault("chain", rule.target)
    for chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"):
        for rule in chain_rules("filter", chain):
            m = _NOENDPOINT_COMMENT.match(rule.comment or "")
            if not m:
                continue
            got = draft_for(m.group("spn"))
            if got is None:
                continue
            d, pname = got
            proto = (rule.protocol or "tcp").lstrip("!").upper()
            entry = d.ports.setdefault((pname, proto), {"port": None})
            addr = bare_address(rule.dest_addr)
            if addr is None:
                entry["nodePort"] = rule.dport_number
            else:
                if chain == "KUBE-SERVICES" and addr not in d.cluster_ips:
                    d.cluster_ips.append(addr)
                if entry.get("port") is None:
                    entry["port"] = rule.dport_number
    if only is not None:
        drafts = {k: d for k, d in drafts.items() if k[1] == only[1] and (only[0] is None or k[0] == only[0])}
    return [_finish(d, rules) for _, d in sorted(drafts.items())]


def _hash_matches(spn: str, rule: Rule) -> bool:
    """The jump target must be the chain kube-proxy derives from the comment's name."""
    target = rule.target or ""
    if not target.startswith(kubeproxy.SERVICE_CHAIN_PREFIXES):
        return False
    proto = (rule.protocol or "tcp").lstrip("!")
    for p in (proto, "tcp", "udp", "sctp"):
        if target in kubeproxy.service_chains(spn, p).values():
            return True
    return False


def _finish(d: _Draft, rules: RuleSet) -> ServiceSnapshot:
    ports: list[ServicePort] = []
    endpoints: dict[str, tuple[Endpoint, ...]] = {}
    for (pname, proto), f in sorted(d.ports.items()):
        spn = kubeproxy.service_port_name(d.namespace, d.name, pname)
        chains = kubeproxy.service_chains(spn, proto)
        eps = _dnat_targets(rules, [chains["svc"], chains["svl"], chains["xlb"]])
        target_ports = {p for _, p in eps}
        ports.append(ServicePort(
            name=pname, protocol=proto, port=int(f["port"]) if f.get("port") is not None else 0,  # type: ignore[call-overload]
            target_port=target_ports.pop() if len(target_ports) == 1 else None,
            node_port=f.get("nodePort"),  # type: ignore[arg-type]
        ))
        endpoints[pname] = tuple(Endpoint(ip=ip, port=p, ready=None, serving=None, terminating=None) for ip, p in eps)
    has_node_ports = any(p.node_port for p in ports) or any(f.get("viaNodePorts") for f in d.ports.values())
    stype = "LoadBalancer" if d.lb_ips else "NodePort" if has_node_ports else "ClusterIP"
    return ServiceSnapshot(
        namespace=d.namespace, name=d.name, type=stype, cluster_ips=tuple(d.cluster_ips), ports=tuple(ports),
        external_ips=tuple(d.external_ips), load_balancer_ips=tuple(d.lb_ips),
        internal_traffic_policy="Local" if d.local else "Cluster",
        endpoints=endpoints, has_slices=False, from_api=False,
    )


def _dnat_targets(rules: RuleSet, chains: list[str]) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for chain in chains:
        for rule in rules.rules_of("nat", chain):
            if rule.target and rule.target.startswith("KUBE-SEP-"):
                for r in rules.rules_of("nat", rule.target):
                    if r.target == "DNAT":
                        ip, port = split_hostport(r.to_destination)
                        if ip and (ip, port) not in out:
                            out.append((ip, port))
    return out

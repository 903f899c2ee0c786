"""The finished analysis of one Service on one node, and the one schema json and yaml share.

The dict produced by ``Report.to_dict`` is a documented contract (docs/json-contract.md):
add fields freely, never rename or remove one without bumping ``apiVersion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_svcpath.path import EndpointHop, EntryPath, Finding, PortPath, SEVERITY_ORDER
from kubectl_svcpath.snapshot import Endpoint, ServiceSnapshot

if TYPE_CHECKING:
    from kubectl_svcpath.expected import ExpectedPort

API_VERSION = "svcpath.kubectl.io/v1alpha1"


@dataclass(slots=True)
class SourceInfo:
    source: str
    format: str
    kind: str = "file"
    reader: str | None = None  # "iptables-nft-save v1.8.7" as the dump header says
    has_counters: bool = False
    collected_at: str | None = None  # ISO time the rules were read; a file's own "# Generated … on" time, or None


@dataclass(frozen=True, slots=True)
class RulesNotRead:
    """Why the node's rules are missing from a report that shows only what the API holds."""

    message: str
    hint: str | None
    exit_code: int  # the documented exit code of that failure (errors.ExitCode)


@dataclass(slots=True)
class Report:
    service: ServiceSnapshot
    mode: str  # "iptables" | "nftables" | "ipvs"
    ports: list[PortPath]
    findings: list[Finding] = field(default_factory=list)
    node: str | None = None
    pod: str | None = None
    backend: str | None = None
    sources: list[SourceInfo] = field(default_factory=list)
    counters: bool = False  # the rules carried packet/byte counters
    notes: list[str] = field(default_factory=list)  # what the input lacks and what that costs
    expected: dict[str, Any] | None = None  # findings.expected.summary: opt-out, node identity, skipped entries
    rules_not_read: RulesNotRead | None = None  # set: an API-only report (exec forbidden, no kube-proxy pod...)
    excerpt: bool = False  # the input shows part of the rules (cut, grep, bare lines): nothing is claimed absent

    @property
    def host(self) -> str | None:
        """Whose rules these are, as a report among several names it: the node, else the pod `kubectl exec` read them
        in ("pod/NAME": a paste of several pods' output does not say which node each is on)."""
        return self.node or (f"pod/{self.pod}" if self.pod else None)

    def not_in_input(self) -> list[str]:
        """Every fact the report leaves unknown because the input does not show it, as "what: not in the input"."""
        out = [f"{field}: not in the input" for field in service_unknowns(self.service)]
        for p in self.ports:
            label = p.port.name or f"(unnamed) {p.port.port or '?'}/{p.port.protocol}"
            out.extend(f"{label}: {u}" for u in p.not_in_input)
        return out

    @property
    def worst_severity(self) -> str | None:
        if not self.findings:
            return None
        return min((f.severity for f in self.findings), key=lambda s: SEVERITY_ORDER.get(s, 9))

    def to_dict(self) -> dict[str, Any]:
        svc = self.service
        unread = self.rules_not_read
        service: dict[str, Any] = {
            "namespace": svc.namespace or None,  # null: the input names no Service (dump-only)
            "name": svc.name or None,
            "type": svc.type,
            "clusterIPs": None if "cluster IP" in service_unknowns(svc) else list(svc.cluster_ips),
            # (null: the input does not tell which addresses are external or load-balancer IPs; they are listed
            # under externalOrLoadBalancerIPs or unknownKindIPs)
            "externalIPs": None if svc.external_or_lb or svc.other_ips else list(svc.external_ips),
            "loadBalancerIPs": None if svc.external_or_lb or svc.other_ips else list(svc.load_balancer_ips),
            "externalTrafficPolicy": svc.external_traffic_policy,
            "internalTrafficPolicy": svc.internal_traffic_policy,
            "sessionAffinity": svc.session_affinity,
            "fromAPI": svc.from_api,
        }
        if svc.health_check_node_port is not None and not svc.from_api:  # dump-only: the filter table's rule shows it
            service["healthCheckNodePort"] = svc.health_check_node_port
        if svc.other_ips:  # dump-only: addresses whose kind the input does not show
            service["unknownKindIPs"] = list(svc.other_ips)
        if svc.external_or_lb:  # dump-only nftables: external IPs and load-balancer IPs are written alike
            service["externalOrLoadBalancerIPs"] = list(svc.external_ips)
        if (svc.external_or_lb or svc.other_ips) and svc.load_balancer_ips:  # (proved by a firewall-ips element or a
            service["loadBalancerIPsSeen"] = list(svc.load_balancer_ips)  # comment: maybe not all of them)
        if svc.seen:  # facts a pasted `kubectl describe service` shows, each with its line
            service["seen"] = dict(svc.seen)
        doc = {
            "apiVersion": API_VERSION,
            "kind": "ServicePath",
            "service": service,
            "node": self.node,
            "kubeProxyPod": self.pod,
            "proxyMode": str(self.mode) if unread is None else None,
            "backend": self.backend,
            "counters": self.counters if unread is None else None,
            "rulesRead": unread is None,
            "rulesNotRead": None if unread is None else {"message": unread.message, "hint": unread.hint,
                                                           "exitCode": unread.exit_code},
            "sources": [
                {"source": s.source, "format": s.format, "kind": s.kind, "reader": s.reader, "counters": s.has_counters,
                 "collectedAt": s.collected_at}
                for s in self.sources
            ],
            "ports": [port_to_dict(p, svc, rules_read=unread is None) for p in self.ports],
            "findings": [finding_to_dict(f) for f in self.findings],
            "notes": list(self.notes),
            "expected": self.expected,
        }
        # like Kubernetes' own "omitempty": present only when the input is partial
        if self.excerpt:
            doc["excerpt"] = True
        unknown = self.not_in_input()
        if unknown:
            doc["notInInput"] = unknown
        return doc


def service_unknowns(svc: ServiceSnapshot) -> list[str]:
    """The Service's fields the rules did not show (dump-only mode); the API shows them all."""
    if svc.from_api:
        return []
    out = []
    if not svc.name:
        out.append("Service name")
    if svc.type is None:
        out.append("type (LoadBalancer, or another type with external IPs: nftables rules write both kinds of address alike)"
                   if svc.external_or_lb and not svc.load_balancer_ips else "type")
    if not svc.cluster_ips:
        out.append("cluster IP")
    if svc.external_traffic_policy is None and svc.type != "ClusterIP":
        out.append("externalTrafficPolicy")
    if svc.internal_traffic_policy is None:
        out.append("internalTrafficPolicy")
    if svc.session_affinity is None:
        out.append("sessionAffinity")
    if svc.other_ips:
        out.append(f"kind of {', '.join(svc.other_ips)} (cluster, external or load-balancer IP)")
    if svc.external_or_lb:
        out.append(f"kind of {', '.join(svc.external_ips)} (external or load-balancer IP: only a firewall-ips element tells)")
    return out


def list_to_dict(reports: list[Report], findings: list[Finding], errors: list[tuple[str, int, str]],
                 skipped: list[tuple[str, str]] | None = None, sampled: tuple[int, int] | None = None) -> dict[str, Any]:
    """Several reports in one document (--all-nodes, --all): ``kind: ServicePathList``.

    ``findings``: those across reports (node-drift); ``errors``: (node, exit code, message) of
    nodes whose rules could not be read; ``skipped``: (node, why) of nodes not read on purpose
    (Windows nodes: no netfilter rules), which are no error; ``sampled``: --sample's (readable nodes, zones).
    """
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "ServicePathList",
        "items": [r.to_dict() for r in reports],
        "findings": [finding_to_dict(f) for f in findings],
        "errors": [{"node": n, "message": message, "exitCode": code} for n, code, message in errors],
    }
    if skipped:
        doc["skipped"] = [{"node": n, "reason": why} for n, why in skipped]
    if sampled is not None:
        doc["sampled"] = {"of": sampled[0], "zones": sampled[1]}
    return doc


def port_to_dict(p: PortPath, service: ServiceSnapshot | None = None, rules_read: bool = True) -> dict[str, Any]:
    """A service port; without the node's rules its rule fields are null (not read, not "none")."""
    doc: dict[str, Any] = {
        "name": p.port.name,
        "protocol": p.port.protocol if p.port.protocol != "?" else None,  # (null: not in the input)
        "port": p.port.port,
        "targetPort": p.port.target_port,
        "nodePort": p.port.node_port,
        "serviceChain": p.service_chain,
        "localChain": p.local_chain,
        "affinityTimeoutSeconds": p.affinity_timeout,
        "paths": [path_to_dict(e) for e in p.paths] if rules_read else None,
        "missingEndpoints": [endpoint_to_dict(e) for e in p.missing_endpoints] if rules_read else None,
        "leftOutEndpoints": [endpoint_to_dict(e) for e in p.left_out_endpoints] if rules_read else None,
        "expected": expected_port_to_dict(p.expected),
        # the EndpointSlices' view of this port; null when they were not in the input (dump only)
        "sliceEndpoints": ([slice_endpoint_to_dict(e) for e in service.port_endpoints(p.port)]
                           if service is not None and service.from_api else None),
    }
    if p.not_in_input:
        doc["notInInput"] = list(p.not_in_input)
    return doc


def expected_port_to_dict(ep: ExpectedPort | None) -> dict[str, Any] | None:
    """What kube-proxy should program for the port on this node."""
    if ep is None:
        return None
    return {
        "topology": ep.topology or None,
        "topologyReason": ep.topology_reason or None,
        "internalTraffic": ep.internal,
        "externalTraffic": ep.external,
        "terminatingFallback": ep.cluster_fallback or ep.local_fallback,
        "healthCheck": ep.health_check,
        "endpoints": [{"ip": e.ip, "port": e.port, "node": e.node, "zoneHints": sorted(e.zone_hints) if e.zone_hints else [],
                       "nodeHints": sorted(e.node_hints) if e.node_hints else [], **ep.verdicts[e.key].to_dict()} for e in ep.endpoints],
    }


def slice_endpoint_to_dict(ep: Endpoint) -> dict[str, Any]:
    return {"ip": ep.ip, "port": ep.port, "ready": ep.ready, "serving": ep.serving, "terminating": ep.terminating,
            "node": ep.node, "pod": ep.pod}


def path_to_dict(e: EntryPath) -> dict[str, Any]:
    return {
        "entry": e.entry,
        "address": e.address,
        "port": e.port,
        "chains": list(e.chains),
        "packets": e.packets,
        "bytes": e.bytes,
        "connections": e.connections,
        "verdict": e.verdict,
        "policyChain": e.policy_chain,
        "portShown": e.shown_port,
        "sourceRanges": list(e.source_ranges),
        "endpoints": [endpoint_to_dict(ep) for ep in e.endpoints],
        "evidence": [ev.ref for ev in e.evidence],
    }


def endpoint_to_dict(ep: EndpointHop) -> dict[str, Any]:
    out = {
        "ip": None if ep.ip == "?" else ep.ip,  # (null: not in the input, e.g. an endpoint chain the paste does not show)
        "port": ep.port,
        "chain": ep.chain,
        "probability": None if ep.probability is None else round(ep.probability, 6),
        "packets": ep.packets,
        "bytes": ep.bytes,
        "connections": ep.connections,
        "weight": ep.weight,
        "ready": ep.ready,
        "serving": ep.serving,
        "terminating": ep.terminating,
        "node": ep.node,
        "inSlices": ep.in_slices,
        "affinity": ep.affinity,
        "expected": None if ep.expected is None else {"programmed": ep.expected.programmed, "reason": ep.expected.reason},
    }
    if ep.conns is not None:  # IPVS: ipvsadm's ActiveConn/InActConn (null: the listing has no such column)
        out["activeConns"], out["inactiveConns"] = ep.conns
    return out


def finding_to_dict(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity,
        "port": f.port,
        "message": f.message,
        "evidence": list(f.evidence),
        "action": f.action,
        "detail": list(f.detail),
    }

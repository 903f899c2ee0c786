"""Across nodes: does every node's kube-proxy send a Service port to the same endpoints? Pure.

Every node programs the same Cluster-policy endpoint set for a port (the ready endpoints of
the EndpointSlices), except where topology hints give each zone or node its own set: nodes are
then compared only with the nodes that should program the same set (kubectl_svcpath/expected.py). A node that lacks an endpoint the others have, or still holds one the
slices no longer list, has a kube-proxy that stopped syncing: the finding ``node-drift`` names
it. Local-policy chains (KUBE-SVL-/local-) legitimately differ per node and are left out.
"""

from __future__ import annotations

from collections import Counter

from kubectl_svcpath.path import EndpointHop, Finding, PortPath
from kubectl_svcpath.report import Report

Key = tuple[str, str, int | None]  # (port name, protocol, port)


def _key(pp: PortPath) -> Key:
    return (pp.port.name, pp.port.protocol, pp.port.port)


def _ep(hop: EndpointHop) -> str:
    return hop.hostport


def cluster_endpoints(pp: PortPath) -> dict[str, EndpointHop]:
    """Endpoints the node's Cluster-policy chain sends this port to, by ip:port."""
    out: dict[str, EndpointHop] = {}
    for path in pp.paths:
        if pp.local_chain and path.policy_chain == pp.local_chain:
            continue  # Local policy: per-node by design
        if path.policy_chain not in (None, pp.service_chain):
            continue
        for hop in path.endpoints:
            out.setdefault(_ep(hop), hop)
    return out


def node_drift(reports: list[Report]) -> list[Finding]:
    """One ``node-drift`` finding (severity error) per service port on which the nodes disagree."""
    named = [r for r in reports if r.host]
    if len(named) < 2:
        return []
    ports: dict[Key, dict[str, PortPath]] = {}
    for r in named:
        for pp in r.ports:
            ports.setdefault(_key(pp), {})[r.host] = pp  # type: ignore[index]
    findings = []
    for by_node in ports.values():
        # topology hints give each zone (or node) its own set by design: compare nodes that should agree
        groups: dict[object, dict[str, PortPath]] = {}
        for node, pp in by_node.items():
            groups.setdefault(_expected_set(pp), {})[node] = pp
        for group in groups.values():
            if len(group) < 2:
                continue
            finding = _port_drift(group)
            if finding is not None:
                findings.append(finding)
    return findings


def _named(host: str) -> str:
    return host if host.startswith("pod/") else f"node {host}"


def _expected_set(pp: PortPath) -> object:
    """The Cluster-policy set kube-proxy should program on the node (findings/expected.py); None: not known."""
    exp = pp.expected
    if exp is None or exp.cluster is None or not exp.topology:
        return None  # no topology hints in use: every node programs the same set
    return frozenset(e.key for e in exp.cluster)


def _unexpected(hop: EndpointHop) -> bool:
    """In the slices but not owed to this node (out of zone, terminating…): its own report says so."""
    return hop.in_slices is not False and hop.expected is not None and hop.expected.programmed is False


def _port_drift(by_node: dict[str, PortPath]) -> Finding | None:
    sets = {node: {e: h for e, h in cluster_endpoints(pp).items() if not _unexpected(h)} for node, pp in by_node.items()}
    left_out = {node: {_ep(h) for h in pp.left_out_endpoints} for node, pp in by_node.items()}
    if len({frozenset(s) for s in sets.values()}) == 1:
        return None
    any_pp = next(iter(by_node.values()))
    # in the slices: what any node's correlation found in the EndpointSlices, plus endpoints with no rule anywhere
    in_slices = {e for s in sets.values() for e, hop in s.items() if hop.in_slices is not False}
    in_slices |= {_ep(h) for pp in by_node.values() for h in pp.missing_endpoints}
    stale_everywhere = set.intersection(*({e for e, h in s.items() if h.in_slices is False} for s in sets.values()))
    union = set().union(*sets.values())
    majority, _ = Counter(frozenset(s) for s in sets.values()).most_common(1)[0]

    problems: dict[str, list[str]] = {}
    evidence: list[str] = []
    for node in sorted(sets):
        have = sets[node]
        missing = sorted((union - set(have)) & in_slices - left_out[node])
        stale = sorted(e for e, h in have.items() if h.in_slices is False and e not in stale_everywhere)
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if stale:
            parts.append("still sends to " + ", ".join(stale) + " (not in the EndpointSlices)")
            for e in stale:
                hop = have[e]
                evidence.extend(f"{_named(node)}: {ev.line}" for ev in hop.evidence[:2])
                if not hop.evidence and hop.chain:
                    evidence.append(f"{_named(node)}: {hop.chain} -> {e}")
        if not parts and frozenset(have) != majority:
            parts.append("programs " + (", ".join(sorted(have)) or "no endpoint") + ", unlike most nodes")
        if parts:
            problems[node] = parts
    if not problems:
        return None
    nodes = sorted(problems)
    # (pods `kubectl exec` read a paste's rules in are named so: which node each is on, the paste does not say)
    noun = "node" if not any(n.startswith("pod/") for n in sets) else "host"
    message = (f"port {any_pp.port.label}: {noun}{'s' if len(nodes) > 1 else ''} {', '.join(nodes)} "
               f"disagree{'' if len(nodes) > 1 else 's'} with the other {noun}s: "
               + "; ".join(f"{n} {' and '.join(problems[n])}" for n in nodes))
    detail = [f"{node}: " + (", ".join(sorted(sets[node])) or "no endpoint") for node in sorted(sets)]
    detail.insert(0, f"Endpoints each {noun}'s kube-proxy programs for this port (Cluster policy):")
    return Finding(
        code="node-drift", severity="error", message=message, port=any_pp.port.name, evidence=evidence,
        detail=detail,
        action=("kube-proxy on " + ", ".join(nodes) + " is out of sync with the API server: read its log "
                "(kubectl logs -n kube-system <kube-proxy pod on that node>) and restart it "
                "(kubectl delete pod -n kube-system <that pod>) if it is stuck" if noun == "node" else
                "kube-proxy in " + ", ".join(nodes) + " is out of sync with the API server: read its log "
                "(kubectl logs -n kube-system <pod>) and restart it (kubectl delete pod -n kube-system <pod>) if it is stuck"),
    )

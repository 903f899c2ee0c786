"""Expected before observed: set the rules of every mode against what kube-proxy should program here.

``build`` computes the Expectation (kubectl_svcpath/expected.py) for the node read, inferring the
node's zone from the programmed endpoints only when no Node object was given (and saying so);
``apply`` marks every endpoint hop with whether it belongs on this node and why, keeps only the
"missing" endpoints kube-proxy really owes this node, and lists the ones it rightly leaves out;
``check_expected`` turns the differences into findings. Pure: PortPaths in, PortPaths and Findings out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from kubectl_svcpath.analysis import Analysis
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.endpoints import norm_ip
from kubectl_svcpath.expected import (PREFER_SAME_ZONE, Expectation, ExpectedPort, NodeIdentity,
                                      ProxyConfig, SliceEndpoint, expected, infer_zone)
from kubectl_svcpath.path import EndpointHop, EntryPath, Expected, Finding, PortPath
from kubectl_svcpath.snapshot import ServiceSnapshot

TOPOLOGY_REASONS = ("out of zone", "hinted for other nodes")


def _family(ip: str | None) -> int | None:
    if not ip:
        return None
    try:
        return ipaddress.ip_address(ip.split("/")[0]).version
    except ValueError:
        return None


def node_identity(collection: Collection) -> NodeIdentity:
    if collection.node_object is not None:
        ident = NodeIdentity.from_node_object(collection.node_object, collection.node_object_source or "manifest")
        return ident if ident.name else replace(ident, name=collection.node)
    return NodeIdentity(name=collection.node)


def _observed(paths: list[PortPath], port_name: str, protocol: str, family: int) -> set[str]:
    """Addresses the Cluster-policy chain of a port holds (the cluster IP's path)."""
    out: set[str] = set()
    for pp in paths:
        if pp.port.name != port_name or pp.port.protocol != protocol:
            continue
        for path in pp.paths:
            if path.entry == "clusterIP" and path.verdict == "forward":
                out |= {norm_ip(h.ip) for h in path.endpoints if _family(h.ip) == family}
    return out


def build(snapshot: ServiceSnapshot, collection: Collection, paths: list[PortPath]) -> tuple[dict[int, Expectation], list[str]]:
    """The Expectation per IP family of the Service, and notes on how the node was identified."""
    if not snapshot.from_api or not snapshot.api_objects:
        return {}, []
    service, slices = snapshot.api_objects[0], list(snapshot.api_objects[1:])
    node = node_identity(collection)
    families = sorted({f for f in (_family(ip) for ip in snapshot.cluster_ips) if f} or {4})
    notes: list[str] = []
    out: dict[int, Expectation] = {}
    for fam in families:
        config = ProxyConfig(family=fam, node_port_addresses=collection.node_port_addresses)
        exp = expected(service, slices, node, config)
        if any(p.topology == "unknown" for p in exp.ports) and not node.zone_known:
            zones = {infer_zone([e for e in p.endpoints], {norm_ip(i) for i in _observed(paths, p.name, p.protocol, fam)})
                     for p in exp.ports if p.topology == "unknown"}
            zones.discard(None)
            if len(zones) == 1:
                zone = zones.pop()
                exp = expected(service, slices, replace(node, zone=zone, zone_source="inferred"), config)
                notes.append(f"node zone {zone} INFERRED from the endpoints its rules hold (no Node object was given): "
                             "add `kubectl get node NAME -o yaml` to --manifest to check the zone hints for real")
            else:
                notes.append("the node's zone is not known and the rules do not tell it: zone hints could not be checked, "
                             "so no endpoint is reported missing because of them (add `kubectl get node NAME -o yaml` to --manifest)")
        out[fam] = exp
    return out, notes


def _index(exp: ExpectedPort) -> dict[object, SliceEndpoint | None]:
    """(ip, port) -> endpoint, and ip -> the endpoint when that address has only one port."""
    idx: dict[object, SliceEndpoint | None] = {}
    for e in exp.endpoints:
        ip = norm_ip(e.ip)
        idx[(ip, e.port)] = e
        idx[ip] = None if ip in idx else e
    return idx


def _slice_endpoint(idx: dict[object, SliceEndpoint | None], hop: EndpointHop) -> SliceEndpoint | None:
    ip = norm_ip(hop.ip)
    exact = idx.get((ip, hop.port))
    if exact is not None:
        return exact
    return idx.get(ip) if hop.port is None else None


def _path_family(path: EntryPath, default: int) -> int:
    return _family(path.address) or next((f for f in (_family(h.ip) for h in path.endpoints) if f), default)


def _mark(exp: ExpectedPort, idx: dict[object, SliceEndpoint | None], want: set[str] | None, path: EntryPath,
          hop: EndpointHop) -> None:
    se = _slice_endpoint(idx, hop)
    if se is None:
        hop.expected = Expected(False, "in no EndpointSlice" if hop.in_slices is False
                                else "not an endpoint kube-proxy reads for this port and IP family")
        return
    verdict = exp.verdicts[se.key]
    if want is None or se.ambiguous:
        hop.expected = Expected(None, verdict.reason if not verdict.programmed else "unknown: " + verdict.reason)
    elif se.key in want:
        hop.expected = Expected(True, verdict.reason)
    elif verdict.programmed:  # in the other policy's set only
        traffic = exp.internal if path.entry == "clusterIP" else exp.external
        hop.expected = Expected(False, "not local" if traffic in ("local", "drop")
                                else "terminating: ready endpoints exist" if not se.ready else verdict.reason)
    else:
        hop.expected = Expected(False, verdict.reason)


def apply(paths: list[PortPath], exps: dict[int, Expectation]) -> None:
    """Mark hops, keep only owed missing endpoints, list the ones rightly left out."""
    if not exps:
        return
    default = min(exps)
    indexes: dict[int, dict[object, SliceEndpoint | None]] = {}
    for pp in paths:
        owed: dict[tuple[str, int], tuple[SliceEndpoint, ExpectedPort]] = {}
        for path in pp.paths:
            exp = exps.get(_path_family(path, default))
            ep = exp.port(pp.port.name, pp.port.protocol) if exp else None
            if ep is None:
                continue
            pp.expected = pp.expected or ep
            idx = indexes.get(id(ep)) or indexes.setdefault(id(ep), _index(ep))
            want_keys = ep.keys_for(path.entry)
            for hop in path.endpoints:
                _mark(ep, idx, want_keys, path, hop)
                if hop.weight == 0 and hop.expected is not None and hop.expected.programmed is False:
                    # IPVS keeps a removed real server with weight 0 until its connections drain
                    hop.expected = Expected(None, f"{hop.expected.reason}; weight 0: IPVS drains it (graceful termination)")
            want = ep.expected_for(path.entry)
            if path.verdict != "forward" or want is None or not (path.policy_chain or path.endpoints):
                continue
            if path.policy_chain and any(path.policy_chain in n for n in pp.not_in_input):
                continue  # an excerpt: the chain is not all in the input, so no gap can be told
            have = {(norm_ip(h.ip), h.port) for h in path.endpoints}
            for se in want:
                if (norm_ip(se.ip), se.port) not in have and not se.ambiguous:
                    owed.setdefault((norm_ip(se.ip), se.port), (se, ep))
        if pp.expected is None:
            exp = exps.get(default)
            pp.expected = exp.port(pp.port.name, pp.port.protocol) if exp else None
        kept: list[EndpointHop] = []
        for hop in pp.missing_endpoints:  # the mode's own list (it knows which chains it read whole)
            key = (norm_ip(hop.ip), hop.port)
            if key in owed:
                se, ep = owed.pop(key)
                hop.expected = Expected(True, ep.verdicts[se.key].reason)
                kept.append(hop)
        for se, ep in owed.values():
            # only Local-policy chains: the modes list Cluster-policy gaps themselves
            v = ep.verdicts[se.key]
            if v.local is True and v.cluster is not True:
                kept.append(EndpointHop(ip=se.ip, port=se.port, chain=None, probability=None,
                                        ready=se.ready, serving=se.serving, terminating=se.terminating, node=se.node,
                                        in_slices=True, expected=Expected(True, ep.verdicts[se.key].reason)))
        pp.missing_endpoints = kept
        if pp.expected is not None:
            shown = {(norm_ip(h.ip), h.port) for p in pp.paths for h in p.endpoints} | {(norm_ip(h.ip), h.port) for h in kept}
            for se in pp.expected.endpoints:
                v = pp.expected.verdicts[se.key]
                if (norm_ip(se.ip), se.port) in shown or v.programmed:
                    continue
                pp.left_out_endpoints.append(EndpointHop(
                    ip=se.ip, port=se.port, chain=None, probability=None, ready=se.ready, serving=se.serving,
                    terminating=se.terminating, node=se.node, in_slices=True,
                    expected=Expected(None if v.reason.startswith("unknown") else False, v.reason)))


# --- findings -------------------------------------------------------------------------------


def _ep(hop: EndpointHop) -> str:
    return hop.hostport


def _where(a: Analysis) -> str:
    return f"node {a.collection.node}" if a.collection.node else "this node"


def opted_out(a: Analysis) -> Expectation | None:
    """The Expectation when kube-proxy writes nothing for this Service (another proxy, headless…)."""
    exps = list(a.expectations.values())
    if exps and all(not e.programmed for e in exps) and exps[0].owner and "other IP family" not in exps[0].owner:
        return exps[0]
    return None


def check_expected(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    skip = opted_out(a)
    if skip is not None:
        held = [p for pp in a.paths for p in pp.paths if p.verdict == "forward" and p.endpoints]
        if held:
            out.append(Finding("rules-for-ignored-service", "warning",
                               f"kube-proxy ignores this Service ({skip.reason}), yet {_where(a)} has rules for it",
                               evidence=[ev.ref + "  " + ev.text for p in held[:2] for ev in p.evidence[:1]],
                               detail=[f"Who programs it: {skip.owner}."],
                               action="rules left from before the label was set, or another kube-proxy instance: check which proxy wrote them"))
        return out
    for pp in a.paths:
        ep = pp.expected
        if ep is None:
            continue
        ignored: dict[str, EndpointHop] = {}
        unexpected: dict[str, EndpointHop] = {}
        for path in pp.paths:
            for hop in path.endpoints:
                x = hop.expected
                if x is None or x.programmed is not False or hop.in_slices is False:
                    continue
                if x.reason.startswith(TOPOLOGY_REASONS):
                    ignored.setdefault(_ep(hop), hop)
                elif x.reason != "not an endpoint kube-proxy reads for this port and IP family":
                    unexpected.setdefault(_ep(hop), hop)
        if ignored:
            what = "zone" if ep.topology == PREFER_SAME_ZONE else "node"
            node = a.collection.node or "this node"
            out.append(Finding(
                "topology-hints-ignored", "error",
                f"port {pp.port.label}: {node} sends traffic to {', '.join(ignored)} although kube-proxy uses the "
                f"topology hints here ({ep.topology_reason})",
                port=pp.port.name,
                evidence=[ev.ref + "  " + ev.text for h in list(ignored.values())[:3] for ev in h.evidence[:1]],
                detail=[f"{k}: {h.expected.reason if h.expected else ''}" for k, h in ignored.items()]
                + [f"With usable hints kube-proxy programs only the endpoints hinted for this {what}."],
                action="kube-proxy on this node is not synced (or runs without the TopologyAwareHints / "
                       "PreferSameTrafficDistribution feature): check its logs and version"))
        if unexpected:
            out.append(Finding(
                "endpoint-not-expected", "error",
                f"port {pp.port.label}: rules send traffic to {', '.join(unexpected)}, which kube-proxy would not program here",
                port=pp.port.name,
                evidence=[ev.ref + "  " + ev.text for h in list(unexpected.values())[:3] for ev in h.evidence[:1]],
                detail=[f"{k}: {h.expected.reason if h.expected else ''}" for k, h in unexpected.items()],
                action="kube-proxy on this node has not applied the latest EndpointSlice change: check its logs for sync errors"))
        out.extend(_hints_misapplied(a, pp, ep))
        out.extend(_verdict_not_expected(a, pp, ep))
    return out


def _verdict_not_expected(a: Analysis, pp: PortPath, ep: ExpectedPort) -> list[Finding]:
    """The rules drop or reject a kind of traffic that kube-proxy would forward from this node."""
    wrong: list[tuple[EntryPath, str, list[SliceEndpoint]]] = []
    for path in pp.paths:
        if path.verdict not in ("drop", "reject") or path.entry is None:
            continue
        traffic = ep.internal if path.entry == "clusterIP" else ep.external
        want = ep.expected_for(path.entry)
        if traffic in ("cluster", "local") and want:
            wrong.append((path, traffic, want))
    if not wrong:
        return []
    kinds = sorted({p.entry or "?" for p, _, _ in wrong})
    path, traffic, want = wrong[0]
    shown = ", ".join(f"{e.key}" for e in want[:5]) + (f" and {len(want) - 5} more" if len(want) > 5 else "")
    why = "this node's endpoints (Local traffic policy)" if traffic == "local" else "the usable endpoints"
    return [Finding(
        "verdict-not-expected", "error",
        f"port {pp.port.label}: rules {path.verdict.upper()} {', '.join(kinds)} traffic on {_where(a)}, "
        f"but kube-proxy would send it to {why}: {shown}",
        port=pp.port.name, evidence=[ev.ref + "  " + ev.text for p, _, _ in wrong for ev in p.evidence[:1]],
        detail=[f"{e.key}: {ep.verdicts[e.key].reason}" for e in want[:5]],
        action="kube-proxy on this node has not applied the latest EndpointSlice change (or the Node's name differs "
               "from kube-proxy's --hostname-override): check its logs")]


def _hints_misapplied(a: Analysis, pp: PortPath, ep: ExpectedPort) -> list[Finding]:
    """The rules hold exactly one zone's hinted endpoints while kube-proxy would use them all."""
    if ep.topology not in ("",) or not pp.missing_endpoints:
        return []
    ready = [e for e in ep.endpoints if e.ready]
    if not ready or not all(e.zone_hints for e in ready):
        return []
    have = {norm_ip(h.ip) for p in pp.paths if p.entry == "clusterIP" for h in p.endpoints}
    zone = infer_zone(ep.endpoints, have)
    if zone is None or have != {norm_ip(e.ip) for e in ready if zone in e.zone_hints}:
        return []
    explained = [h for h in pp.missing_endpoints if (h.expected and h.expected.programmed)]
    gone = {id(h) for h in explained}
    pp.missing_endpoints = [h for h in pp.missing_endpoints if id(h) not in gone]
    return [Finding(
        "topology-hints-misapplied", "error",
        f"port {pp.port.label}: {a.collection.node or 'this node'} holds only the endpoints hinted for zone {zone}, "
        f"but kube-proxy ignores these hints here ({ep.topology_reason})",
        port=pp.port.name,
        detail=["Left out although kube-proxy should program them: " + ", ".join(_ep(h) for h in explained)],
        action="check the node's topology.kubernetes.io/zone label against kube-proxy's view, and kube-proxy's sync")]


def notes(a: Analysis) -> list[str]:
    """What the report says about the expectation itself (opt-outs, skipped entries, hints, health checks)."""
    out: list[str] = []
    skip = opted_out(a)
    if skip is not None:
        return [f"kube-proxy writes no rules for this Service: {skip.reason}; {skip.owner}"]
    for exp in a.expectations.values():
        out.extend(exp.skipped_entries)
        out.extend(exp.notes)
        for ep in exp.ports:
            if ep.topology_reason and ep.topology_reason != "no topology hints":
                out.append(f"port {ep.name or '(unnamed)'}: {ep.topology_reason}")
            if ep.cluster_fallback:
                out.append(f"port {ep.name or '(unnamed)'}: no ready endpoint anywhere: kube-proxy falls back to the serving "
                           "terminating ones (KEP-1669: v1.26+ by default; v1.24-1.25 only with the ProxyTerminatingEndpoints gate)")
            if ep.health_check:  # one health check node port per Service: said once when every port says the same
                out.append(ep.health_check if len({e.health_check for e in exp.ports}) == 1
                           else f"port {ep.name or '(unnamed)'}: {ep.health_check}")
            out.extend(f"port {ep.name or '(unnamed)'}: {n}" for n in ep.notes)
    seen: set[str] = set()
    return [n for n in out if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]


def summary(a: Analysis) -> dict[str, object] | None:
    """The report's ``expected`` block (docs/json-contract.md); None without API objects."""
    if not a.expectations:
        return None
    first = next(iter(a.expectations.values()))
    node = first.node
    return {
        "programmed": any(e.programmed for e in a.expectations.values()),
        "reason": first.reason,
        "programmedBy": first.owner,
        "node": node.name,
        "zone": node.zone,
        "zoneSource": node.zone_source,
        "skippedEntries": [s for e in a.expectations.values() for s in e.skipped_entries],
    }

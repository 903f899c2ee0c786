"""Findings: what is wrong with a Service's path, in plain words, with the evidence.

Each check reads the Analysis and returns Findings; the codes are stable (README lists
them). Each mode's own checks live in its package (modes/<mode>/checks.py) and are run from
here through the registry; findings/backends.py checks the iptables backends in every mode.
"""

from __future__ import annotations

from collections.abc import Callable

from kubectl_svcpath.analysis import Analysis
from kubectl_svcpath.findings.knowledge import check_not_in_input, check_restore_failed
from kubectl_svcpath.findings.backends import check_backends
from kubectl_svcpath.modes import registry
from kubectl_svcpath.endpoints import usable_endpoints
from kubectl_svcpath.path import SEVERITY_ORDER, EndpointHop, Finding, PortPath
from kubectl_svcpath.wording import agrees, counted

Check = Callable[[Analysis], list[Finding]]


def _ep(hop: EndpointHop) -> str:
    return hop.hostport


def check_dump_only(a: Analysis) -> list[Finding]:
    if a.snapshot.from_api:
        return []
    source = "the rules and what a pasted kubectl describe/get service shows" if a.snapshot.seen else "the rules alone"
    return [Finding("dump-only", "info",
                    f"no API objects were cross-checked: the Service was rebuilt from {source}",
                    detail=["Endpoint readiness, stale endpoints and unprogrammed endpoints cannot be judged without the EndpointSlices."],
                    action="add --manifest FILE (kubectl get service,endpointslices -o yaml > FILE), or run against the cluster")]


def check_no_endpoints(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
        rejects = [p for p in pp.paths if p.verdict == "reject"]
        eps = a.snapshot.port_endpoints(pp.port)
        if a.snapshot.from_api and not usable_endpoints(eps):
            not_ready = [e for e in eps if not e.ready]
            msg = f"port {pp.port.label} has no ready endpoints: new connections are rejected"
            detail = []
            if not a.snapshot.has_slices:
                detail.append("There is no EndpointSlice for this Service (label kubernetes.io/service-name).")
            elif not_ready:
                detail.append(f"{counted(len(not_ready), 'endpoint')} {agrees(len(not_ready), 'exists but is', 'exist but are')} "
                              "not ready: " + ", ".join(e.ip for e in not_ready[:5]))
            else:
                detail.append("The EndpointSlices list no addresses: does the Service's selector match any running pod?")
            out.append(Finding("no-endpoints", "error", msg, port=pp.port.name,
                               evidence=[ev.line for p in rejects for ev in p.evidence],
                               detail=detail, action="check the pods behind the selector: kubectl get pods -l <selector> -o wide; kubectl describe endpointslices -l kubernetes.io/service-name=" + a.snapshot.name))
        elif not a.snapshot.from_api and rejects and not any(p.endpoints for p in pp.paths):
            out.append(Finding("no-endpoints", "error", f"port {pp.port.label} has no endpoints: kube-proxy rejects its traffic",
                               port=pp.port.name, evidence=[ev.line for p in rejects for ev in p.evidence],
                               action="check the pods behind the Service's selector"))
    return out


def check_no_local_endpoints(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
        drops = [p for p in pp.paths if p.verdict == "drop"]
        if drops:
            # an address whose kind the input does not show is named by its address
            kinds = sorted({(f"{p.address} (kind not in the input)" if p.entry == "address" else p.entry)
                            or "(entry not in the input)" for p in drops})
            out.append(Finding("no-local-endpoints", "warning",
                               f"port {pp.port.label}: traffic policy Local and no endpoint on this node: {', '.join(kinds)} traffic is dropped here",
                               # (each way in cites the rule that ends the chain they share: once)
                               port=pp.port.name, evidence=list(dict.fromkeys(ev.line for p in drops for ev in p.evidence)),
                               detail=["With externalTrafficPolicy/internalTrafficPolicy: Local, kube-proxy only forwards to endpoints on the same node."],
                               action="expected for nodes without a pod of this Service (load balancers health-check them out); otherwise schedule a pod here or use policy Cluster"))
    return out


def check_service_not_programmed(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    if a.snapshot.headless:
        return [Finding("headless-service", "info", "the Service is headless (clusterIP: None): kube-proxy writes no rules for it; clients reach pods through DNS")]
    if _unreadable_table(a):
        return out  # the reader could not list the table: table-incompatible explains it
    for pp in a.paths:
        if pp.paths or not pp.entries_complete:
            continue  # an excerpt: a rule it does not show may send traffic there ("entry rule: not in the input")
        eps = a.snapshot.port_endpoints(pp.port)
        if a.snapshot.from_api and not usable_endpoints(eps):
            continue  # no-endpoints says it, and the filter rule may be absent from a nat-only dump
        out.append(Finding("service-not-programmed", "error",
                           f"port {pp.port.label}: no rule on this node sends traffic to it (expected a jump to {pp.service_chain or _expected(a, pp)})",
                           port=pp.port.name,
                           detail=["kube-proxy on this node has not written rules for this port: it may be down, not synced yet, or in another proxy mode."],
                           action="check kube-proxy on this node: kubectl -n kube-system logs <kube-proxy pod>; is the dump from the right node and complete (nat table)?"))
    return out


def _unreadable_table(a: Analysis) -> bool:
    if a.rules is None:
        return False
    return any("incompatible" in n or "failed" in n.lower() for d in a.rules.dumps for n in d.notices) or any(
        d.returncode not in (0, None) for d in a.collection.dumps)


def _expected(a: Analysis, pp: PortPath) -> str:
    service_chain = registry.mode(a.mode).service_chain
    return service_chain(a.snapshot, pp.port) if service_chain is not None else "its service chain"


def check_stale_endpoints(a: Analysis) -> list[Finding]:
    if not a.snapshot.from_api:
        return []
    out: list[Finding] = []
    for pp in a.paths:
        stale: dict[str, EndpointHop] = {}
        for path in pp.paths:
            for hop in path.endpoints:
                if hop.in_slices is False:
                    stale.setdefault(_ep(hop), hop)
        for key, hop in stale.items():
            share = f" and gets {hop.probability:.0%} of new connections" if hop.probability else ""
            out.append(Finding("stale-endpoint", "error",
                               f"port {pp.port.label}: rules still send traffic to {key}, which no EndpointSlice lists{share}",
                               port=pp.port.name, evidence=[ev.line for ev in hop.evidence[:2]],
                               detail=["kube-proxy on this node has not applied a change of the Service's endpoints (a pod that is gone?)."],
                               action="check kube-proxy's logs on this node for sync errors; restarting the kube-proxy pod rewrites all rules"))
    return out


ONE_FINDING_EACH = 10  # past this many endpoints of a port, one finding counts them (10^5 would be 10^5 findings)


def check_not_programmed_endpoints(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
        missing = pp.missing_endpoints
        if len(missing) > ONE_FINDING_EACH:
            shown = ", ".join(_ep(h) for h in missing[:5])
            out.append(_not_programmed(pp, f"{len(missing)} ready endpoints have no rule on this node "
                                           f"({shown}, and {len(missing) - 5} more)", "The EndpointSlices list them", "them"))
            continue
        for hop in missing:
            on_node = " on node " + hop.node if hop.node else ""
            why = f" ({hop.expected.reason})" if hop.expected and hop.expected.reason not in ("ready", "") else ""
            chain = f" (expected chain {hop.chain})" if hop.chain else ""
            out.append(_not_programmed(pp, f"ready endpoint {_ep(hop)}{on_node}{why} has no rule on this node{chain}",
                                       "The EndpointSlice lists it", "it"))
    return out


def _not_programmed(pp: PortPath, what: str, slices_say: str, them: str) -> Finding:
    return Finding("endpoint-not-programmed", "error", f"port {pp.port.label}: {what}", port=pp.port.name,
                   detail=[f"{slices_say} as ready, but kube-proxy on this node does not send traffic to {them}: kube-proxy is not synced."],
                   action="check kube-proxy's logs on this node for sync errors")


def check_target_ports(a: Analysis) -> list[Finding]:
    if not a.snapshot.from_api:
        return []
    out: list[Finding] = []
    for pp in a.paths:
        eps = {(e.ip): e for e in a.snapshot.port_endpoints(pp.port)}
        reported: set[str] = set()
        for path in pp.paths:
            for hop in path.endpoints:
                ep = eps.get(hop.ip)
                if ep is None or ep.port is None or hop.port is None or hop.port == ep.port or hop.ip in reported:
                    continue
                reported.add(hop.ip)
                out.append(Finding("target-port-mismatch", "error",
                                   f"port {pp.port.label}: rules DNAT to {hop.hostport} but the EndpointSlice says port {ep.port}",
                                   port=pp.port.name, evidence=[ev.line for ev in hop.evidence[-1:]],
                                   action="kube-proxy is not synced with the Service's targetPort change; check its logs"))
        tp = pp.port.target_port
        slice_ports = {e.port for e in a.snapshot.port_endpoints(pp.port) if e.port is not None}
        if isinstance(tp, int) and slice_ports and tp not in slice_ports:
            out.append(Finding("target-port-mismatch", "warning",
                               f"port {pp.port.label}: the Service's targetPort is {tp} but its EndpointSlices carry port {', '.join(map(str, sorted(slice_ports)))}",
                               port=pp.port.name, action="the EndpointSlice controller may be lagging; or a custom controller manages the slices"))
    return out


def check_terminating_fallback(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
        eps = a.snapshot.port_endpoints(pp.port)
        if eps and not any(e.ready for e in eps) and any(e.serving and e.terminating for e in eps):
            out.append(Finding("terminating-fallback", "warning",
                               f"port {pp.port.label}: no endpoint is ready; kube-proxy falls back to "
                               f"{counted(sum(1 for e in eps if e.serving and e.terminating), 'serving but terminating endpoint')}",
                               port=pp.port.name, detail=["Traffic still flows, to pods that are shutting down. When they are gone, connections will be rejected."],
                               action="check why no new pod is ready (rollout stuck? readiness probe failing?)"))
    return out


def check_probabilities(a: Analysis) -> list[Finding]:
    out: list[Finding] = []
    for pp in a.paths:
        for path in pp.paths:
            shares = [h.probability for h in path.endpoints if h.probability is not None and not (h.affinity and h.probability == 0)]
            if path.endpoints and shares and abs(sum(shares) - 1.0) > 0.001:
                out.append(Finding("probability-mismatch", "warning",
                                   f"port {pp.port.label}: endpoint shares in {path.policy_chain} add up to {sum(shares):.4f}, not 1",
                                   port=pp.port.name, detail=["Some new connections fall through the chain without a DNAT: they go to the cluster IP itself and fail."],
                                   action="kube-proxy normally ends the chain with an unconditional rule; the rules were changed by something else"))
                break
    return out


GENERIC_CHECKS: tuple[Check, ...] = (
    check_dump_only,
    check_not_in_input,
    check_service_not_programmed,
    check_no_endpoints,
    check_no_local_endpoints,
    check_stale_endpoints,
    check_not_programmed_endpoints,
    check_target_ports,
    check_terminating_fallback,
    check_probabilities,
    check_restore_failed,
)


def mode_checks(a: Analysis) -> list[Finding]:
    """The checks of the node's proxy mode, and of the iptables backends (they apply in every mode)."""
    return registry.mode(a.mode).checks(a) + check_backends(a)


def diagnose(a: Analysis) -> list[Finding]:
    from kubectl_svcpath.findings.expected import check_expected, opted_out

    findings: list[Finding] = []
    if opted_out(a) is not None:
        # kube-proxy writes nothing for it: no "not programmed" errors, only what the rules contradict
        findings.extend(check_expected(a))
        findings.extend(check_dump_only(a))
    else:
        findings.extend(check_expected(a))  # first: it takes the gaps it explains out of missing_endpoints
        for check in GENERIC_CHECKS:
            findings.extend(check(a))
        findings.extend(mode_checks(a))
    # one finding per code and message: modes may reuse generic codes
    unique: dict[tuple[str, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.code, f.message), f)
    return sorted(unique.values(), key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.code, f.port or ""))

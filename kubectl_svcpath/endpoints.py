"""Endpoints against rules, for every proxy mode: which endpoints kube-proxy programs, and the
EndpointSlice facts (ready, serving, terminating, node) copied onto the hops the rules show."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable

from kubectl_svcpath.path import EndpointHop, PortPath
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot


def usable_endpoints(eps: tuple[Endpoint, ...]) -> list[Endpoint]:
    """What kube-proxy programs: ready endpoints; if none, serving terminating ones (KEP-1669)."""
    ready = [e for e in eps if e.ready]
    return ready or [e for e in eps if e.serving and e.terminating]


# a dotted quad as ipaddress accepts it (0-255, no leading zero): already its one spelling, and
# matching it costs a tenth of parsing it (a Service with 10^5 endpoints)
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", re.ASCII)


@functools.lru_cache(maxsize=1 << 18)  # a Service with 10^5 endpoints asks for each address several times
def norm_ip(ip: str) -> str:
    """One spelling per address (IPv6 compressed); text that is no address is kept as it is."""
    if _IPV4.fullmatch(ip):
        return ip
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return ip


def ip_family(ip: str) -> int | None:
    """4 or 6 for an address (surrounding blanks ignored), None for other text."""
    ip = ip.strip()
    if _IPV4.fullmatch(ip):
        return 4
    try:
        return ipaddress.ip_address(ip).version
    except ValueError:
        return None


def _known(e: Endpoint | EndpointHop) -> bool:
    """Anything an EndpointSlice tells of this endpoint (or hop) is known."""
    return e.ready is not None or e.serving is not None or e.terminating is not None or e.node is not None


def attach_slices(snapshot: ServiceSnapshot, port: ServicePort, pp: PortPath, missing_from: set[str],
                  chain_for: Callable[[Endpoint], str | None] | None = None) -> None:
    """Copy readiness from the EndpointSlices onto every hop; list usable endpoints no rule reaches.

    A hop is matched to an endpoint by its chain name (``chain_for``: the chain kube-proxy names
    after the endpoint), else by address and port, else by an address only one endpoint has.
    ``missing_from``: the policy chains (or virtual servers) that should hold every usable
    endpoint (Cluster policy); endpoints are only "not programmed" when one of them was read.
    """
    eps = snapshot.port_endpoints(port)
    hops = [hop for path in pp.paths for hop in path.endpoints]
    if not snapshot.from_api and not any(map(_known, eps)) and not any(map(_known, hops)):
        # the rules' own endpoints (dump-only): whichever endpoint a hop matched, it would copy only
        # unknowns onto unknowns; no chain name hashed for each endpoint, no match looked for
        for hop in hops:
            hop.in_slices = None
        return
    chains = [chain_for(e) for e in eps] if chain_for else []  # one hash per endpoint, kept for the gaps
    by_chain = dict(zip(chains, eps, strict=False))  # no chain_for: empty
    chain_of = {(e.ip, e.port): c for c, e in zip(chains, eps, strict=False)}
    by_addr = {(e.ip, e.port): e for e in eps}
    by_ip: dict[str, list[Endpoint]] = {}
    for e in eps:
        by_ip.setdefault(norm_ip(e.ip), []).append(e)
    seen: set[tuple[str, int | None]] = set()
    for path in pp.paths:
        for hop in path.endpoints:
            ep = by_chain.get(hop.chain) if hop.chain else None
            ep = ep or by_addr.get((hop.ip, hop.port))
            if ep is None:
                same_ip = by_ip.get(norm_ip(hop.ip), [])
                ep = same_ip[0] if len(same_ip) == 1 else None
            if ep is not None:
                hop.ready, hop.serving, hop.terminating, hop.node = ep.ready, ep.serving, ep.terminating, ep.node
                hop.in_slices = True if snapshot.from_api else None
                seen.add((ep.ip, ep.port))
            else:
                hop.in_slices = False if snapshot.from_api else None
    if not snapshot.from_api or not missing_from:
        return
    if not any(p.policy_chain in missing_from for p in pp.paths):
        return
    for ep in usable_endpoints(eps):
        if (ep.ip, ep.port) not in seen:
            pp.missing_endpoints.append(EndpointHop(
                ip=ep.ip, port=ep.port, chain=chain_of.get((ep.ip, ep.port)), probability=None,
                ready=ep.ready, serving=ep.serving, terminating=ep.terminating, node=ep.node, in_slices=True))

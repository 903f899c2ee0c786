"""Traffic right now: two samples of one node's rules -> per-hop deltas, rates and the observed split.

Counters in nat rules count new connections (nat sees the first packet of each) since kube-proxy
last wrote the chain, so only the difference between two samples says whether traffic flows now.
A counter that went backwards means the chain was rewritten between the samples: that hop's
delta is unknown ("reset"), never negative. Pure: the samples are finished Reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_svcpath.kubeproxy import join_host_port
from kubectl_svcpath.path import EntryPath, Finding, PortPath
from kubectl_svcpath.report import Report
from kubectl_svcpath.wording import counted

# the split test: chi-square goodness of fit of the observed new connections per endpoint against
# the programmed probabilities, only with enough connections for the test to mean something
MIN_CONNECTIONS = 20  # new connections through the port between the samples
MIN_EXPECTED = 5  # expected connections per endpoint (the usual validity rule of the chi-square test)
P_THRESHOLD = 0.001  # a departure this unlikely by chance is reported



def seconds_between(before: str | None, after: str | None) -> float | None:
    if not before or not after:
        return None
    try:
        a, b = datetime.fromisoformat(before.replace("Z", "+00:00")), datetime.fromisoformat(after.replace("Z", "+00:00"))
        return (b - a).total_seconds()
    except (ValueError, TypeError):
        return None


def collected_at(report: Report) -> str | None:
    """The latest collection time of the report's sources, if any was recorded."""
    times = [s.collected_at for s in report.sources if s.collected_at]
    return max(times) if times else None


@dataclass(slots=True)
class HopDelta:
    hop: str  # "clusterIP 10.0.0.1:80" or the endpoint "10.244.1.5:8080"
    packets: int | None  # None: not in both samples, or reset
    bytes: int | None
    reset: bool = False  # the counter went backwards: the chain was rewritten between the samples
    programmed: float | None = None  # endpoint: the probability the rules give it
    observed: float | None = None  # endpoint: its share of the port's new connections in the interval


@dataclass(slots=True)
class PortTraffic:
    port: str  # "port-v1 39090/TCP"
    name: str
    entries: list[HopDelta] = field(default_factory=list)
    endpoints: list[HopDelta] = field(default_factory=list)


@dataclass(slots=True)
class Traffic:
    seconds: float | None  # the interval; None when the samples carry no time
    before: str | None
    after: str | None
    ports: list[PortTraffic]
    findings: list[Finding]

    def rate(self, value: int | None) -> float | None:
        return None if value is None or not self.seconds or self.seconds <= 0 else value / self.seconds

    def to_dict(self) -> dict[str, Any]:
        def hop(h: HopDelta) -> dict[str, Any]:
            d: dict[str, Any] = {"hop": h.hop, "packets": h.packets, "bytes": h.bytes, "reset": h.reset,
                                 "packetsPerSecond": _round(self.rate(h.packets)), "bytesPerSecond": _round(self.rate(h.bytes))}
            if h.programmed is not None or h.observed is not None:
                d["programmed"] = _round(h.programmed)
                d["observed"] = _round(h.observed)
            return d

        return {"since": self.before, "until": self.after, "seconds": self.seconds,
                "ports": [{"port": p.name, "entries": [hop(h) for h in p.entries], "endpoints": [hop(h) for h in p.endpoints]}
                          for p in self.ports],
                "findings": [{"code": f.code, "severity": f.severity, "port": f.port, "message": f.message,
                              "detail": list(f.detail)} for f in self.findings]}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _delta(before: int | None, after: int | None) -> tuple[int | None, bool]:
    if after is None:
        return None, False
    if before is None:
        return None, False
    if after < before:
        return None, True
    return after - before, False


def _label(pp: PortPath) -> str:
    return f"{pp.port.name or '(unnamed)'} {pp.port.port or '?'}/{pp.port.protocol}"


def _endpoint_hops(pp: PortPath) -> dict[tuple[str, int | None], Any]:
    """Each endpoint once (the cluster-IP and node-port paths share its chain and counters)."""
    hops: dict[tuple[str, int | None], Any] = {}
    for path in pp.paths:
        for h in path.endpoints:
            hops.setdefault((h.ip, h.port), h)
    return hops


def _at(address: str | None, port: int | None) -> str:
    """address:port (IPv6 in brackets), "?" for what the input does not show."""
    return join_host_port(address or "?", port or "?")


def _same_entry(prev: PortPath | None, path: EntryPath) -> EntryPath | None:
    """The earlier dump's path of this entry when one of the two does not show its port (an iptables too old
    to print the port match, a listing cut): the one path of the same entry and address, else None."""
    if prev is None or (path.port and all(p.port for p in prev.paths)):
        return None
    alike = [p for p in prev.paths if p.entry == path.entry and p.address == path.address
             and (not p.port or not path.port or p.port == path.port)]
    return alike[0] if len(alike) == 1 else None


def compare(before: Report, after: Report, seconds: float | None = None) -> Traffic:
    """Deltas from ``before`` to ``after`` (the same Service on the same node), with the split findings."""
    t0, t1 = collected_at(before), collected_at(after)
    if seconds is None:
        seconds = seconds_between(t0, t1)
    old = {pp.port.name: pp for pp in before.ports}
    ports: list[PortTraffic] = []
    resets: list[str] = []
    findings: list[Finding] = []
    for pp in after.ports:
        prev = old.get(pp.port.name)
        pt = PortTraffic(_label(pp), pp.port.name)
        prev_paths = {(p.entry, p.address, p.port): p for p in (prev.paths if prev else [])}
        for path in pp.paths:
            was = prev_paths.get((path.entry, path.address, path.port)) or _same_entry(prev, path)
            dp, reset = _delta(was.packets if was else None, path.packets)
            db, _ = _delta(was.bytes if was else None, path.bytes)
            pt.entries.append(HopDelta(f"{path.entry} {_at(path.address or '*', path.port)}", dp, None if reset else db, reset))
            if reset:
                resets.append(f"{pt.port} {path.entry}")
        prev_hops = _endpoint_hops(prev) if prev else {}
        for key, h in _endpoint_hops(pp).items():
            was_h = prev_hops.get(key)
            dp, reset = _delta(was_h.packets if was_h else None, h.packets)
            db, _ = _delta(was_h.bytes if was_h else None, h.bytes)
            pt.endpoints.append(HopDelta(_at(h.ip, h.port), dp, None if reset else db, reset, h.probability))
            if reset:
                resets.append(f"{pt.port} {_at(h.ip, h.port)}")
        seen = [e for e in pt.endpoints if e.packets is not None]
        total = sum(e.packets or 0 for e in seen)
        if total and len(seen) == len(pt.endpoints):
            for e in pt.endpoints:
                e.observed = (e.packets or 0) / total
        split = split_finding(pt, pp, total)
        if split is not None and len(seen) == len(pt.endpoints):
            findings.append(split)
        ports.append(pt)
    if resets:
        findings.insert(0, Finding(
            "counters-reset", "warning",
            f"{counted(len(resets), 'counter')} went backwards between the samples: kube-proxy rewrote those chains "
            "(a resync or an endpoint change); their traffic in the interval is unknown, not negative",
            detail=["Reset: " + ", ".join(resets[:8]) + (" …" if len(resets) > 8 else ""),
                    "Take another pair of samples; if it happens every time, kube-proxy is resyncing constantly "
                    "(check its logs and --iptables-min-sync-period)."]))
    return Traffic(seconds, t0, t1, ports, findings)


def split_finding(pt: PortTraffic, pp: PortPath, total: int) -> Finding | None:
    """Chi-square goodness of fit of the observed split against the programmed probabilities."""
    if pp.affinity_timeout or any(h.affinity for path in pp.paths for h in path.endpoints):
        return None  # ClientIP affinity pins clients: the split is not meant to follow the probabilities
    eps = [e for e in pt.endpoints if e.programmed is not None and e.packets is not None]
    if len(eps) < 2 or total < MIN_CONNECTIONS:
        return None
    norm = sum(e.programmed or 0 for e in eps)
    if norm <= 0:
        return None
    expected = [total * (e.programmed or 0) / norm for e in eps]
    if min(expected) < MIN_EXPECTED:
        return None
    chi2 = sum(((e.packets or 0) - x) ** 2 / x for e, x in zip(eps, expected, strict=True))
    df = len(eps) - 1
    p = chi2_sf(chi2, df)
    if p >= P_THRESHOLD:
        return None
    seen = ", ".join(f"{e.hop} {e.packets}" for e in eps)
    want = ", ".join(f"{e.hop} {x:.1f}" for e, x in zip(eps, expected, strict=True))
    return Finding(
        "split-departs", "warning",
        f"port {pt.port}: the observed split of {total} new connections departs from the programmed one "
        f"(chi-square {chi2:.1f}, df {df}, p {p:.1g} < {P_THRESHOLD:g})",
        port=pt.name,
        detail=[f"Observed: {seen}.", f"Expected from the rules' probabilities: {want}.",
                f"Test: chi-square goodness of fit, reported when p < {P_THRESHOLD:g}, with at least {MIN_CONNECTIONS} new "
                f"connections and {MIN_EXPECTED} expected per endpoint.",
                "Causes: clients reusing connections (HTTP keep-alive, gRPC) count once; a node-local client may "
                "bypass the rule; another node's kube-proxy may program a different set."])


def chi2_sf(x: float, df: int) -> float:
    """P(X >= x) for a chi-square variable with df degrees of freedom (regularised upper gamma)."""
    if x <= 0:
        return 1.0
    a, z = df / 2.0, x / 2.0
    if z < a + 1:  # series for the lower function
        term = total = 1.0 / a
        n = a
        for _ in range(500):
            n += 1
            term *= z / n
            total += term
            if term < total * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-z + a * math.log(z) - math.lgamma(a)))
    # continued fraction for the upper function (Lentz)
    tiny = 1e-300
    b = z + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 500):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(-z + a * math.log(z) - math.lgamma(a)) * h)

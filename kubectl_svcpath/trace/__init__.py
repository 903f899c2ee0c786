"""Trace one packet through a node's rules: ``--trace FROM [--to ADDR:PORT]``.

Pure: the packets are built from the Service, the node's addresses and what the user typed;
each proxy mode's evaluator (modes/<mode>/trace.py) follows them through the parsed rules.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from kubectl_svcpath.errors import UsageError
from kubectl_svcpath.modes.base import Parsed
from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot
from kubectl_svcpath.trace.model import Node, Packet, Trace

PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True, slots=True)
class TraceSpec:
    """``--trace FROM --to ADDR:PORT --proto P --node-ip IP`` as typed (validated by ``check``)."""

    source: str  # an address, pod/NAME, NS/pod/NAME, node, outside
    to: str | None = None
    protocol: str | None = None
    node_ips: tuple[str, ...] = ()

    @property
    def pod(self) -> tuple[str | None, str] | None:
        """(namespace or None, name) when FROM names a pod."""
        parts = self.source.split("/")
        if len(parts) == 2 and parts[0] in ("pod", "pods", "po"):
            return None, parts[1]
        if len(parts) == 3 and parts[1] in ("pod", "pods", "po"):
            return parts[0], parts[2]
        return None


def check(spec: TraceSpec) -> None:
    """Usage errors before any I/O."""
    src = spec.source.strip()
    if not src:
        raise UsageError("--trace needs a source: an address, pod/NAME, NS/pod/NAME, node or outside")
    if src not in ("node", "outside") and spec.pod is None:
        try:
            ipaddress.ip_address(src)
        except ValueError:
            # (an ADDR:PORT is most likely the destination: --trace takes where the packet comes from)
            hint = (f"--trace takes where the packet comes from; its destination goes in --to: --trace node --to {src}"
                    if _is_host_port(src) else None)
            raise UsageError(f'cannot read --trace "{src}": use an address, pod/NAME, NS/pod/NAME, node or outside', hint) from None
    if spec.protocol is not None and spec.protocol.lower() not in PROTOCOLS:
        raise UsageError(f'unknown --proto "{spec.protocol}"; use one of: {", ".join(PROTOCOLS)}')
    if spec.to is not None:
        parse_to(spec.to)
    for ip in spec.node_ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise UsageError(f'--node-ip "{ip}" is not an IP address') from None


def parse_to(text: str) -> tuple[str, int]:
    """``10.0.0.1:80`` or ``[fd00::1]:80`` -> (address, port)."""
    t = text.strip()
    if t.startswith("["):
        host, _, rest = t[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = t.rpartition(":")
    try:
        addr = ipaddress.ip_address(host).compressed
    except ValueError:
        raise UsageError(f'cannot read --to "{text}": use ADDRESS:PORT (IPv6: [ADDRESS]:PORT)') from None
    if not (port.isascii() and port.isdigit() and len(port) <= 5) or not 0 < int(port) < 65536:  # int() refuses 4,300+ digits
        raise UsageError(f'cannot read --to "{text}": the port must be a number from 1 to 65535')
    return addr, int(port)


def _is_host_port(text: str) -> bool:
    try:
        parse_to(text)
    except UsageError:
        return False
    return True


@dataclass(slots=True)
class TraceReport:
    """Every packet traced for one Service on one node."""

    service: ServiceSnapshot
    node: str | None
    mode: str
    traces: list[Trace] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from kubectl_svcpath.report import API_VERSION

        return {
            "apiVersion": API_VERSION,
            "kind": "PacketTrace",
            "service": {"namespace": self.service.namespace, "name": self.service.name},
            "node": self.node,
            "proxyMode": self.mode,
            "traces": [t.to_dict() for t in self.traces],
            "notes": list(self.notes),
        }


def packets(snapshot: ServiceSnapshot, spec: TraceSpec, pod_ip: str | None = None) -> tuple[list[Packet], list[str]]:
    """The packets to trace, and notes on entries that could not be traced (node port without the node's address)."""
    notes: list[str] = []
    src, origin, label = _source(spec, pod_ip)
    if spec.to is not None:
        addr, port = parse_to(spec.to)
        proto = (spec.protocol or _protocol_for(snapshot, addr, port)).lower()
        src_for = _src_for_family(src, origin, spec.node_ips, addr)
        return [Packet(src_for, addr, port, proto, origin, label, _entry_of(snapshot, addr, port, spec.node_ips))], notes
    out: list[Packet] = []
    for p in snapshot.ports:
        proto = p.protocol.lower()
        if spec.protocol and spec.protocol.lower() != proto:
            continue
        targets: list[tuple[str, str, int]] = []
        if p.rules_key and " " in p.rules_key:
            # dump-only IPVS: the virtual servers themselves ("TCP 10.0.0.1:443"), their role not in the input
            for vs in p.rules_key.split("|"):
                host, _, vport = vs.split(" ", 1)[1].rpartition(":")
                targets.append((_vs_kind(snapshot, p, host.strip("[]"), int(vport)), host.strip("[]"), int(vport)))
        elif p.port is not None:
            targets += [(kind, ip, p.port) for kind, ip in snapshot.entry_addresses()]
        else:
            notes.append(f"port {p.name or '(unnamed)'}/{p.protocol} not traced: its number is not in the input")
        if p.node_port and not (p.rules_key and " " in p.rules_key):
            if spec.node_ips:
                targets += [("nodePort", ip, p.node_port) for ip in spec.node_ips]
            else:
                notes.append(f"node port {p.node_port}/{p.protocol} not traced: give the node's address with --node-ip")
        for kind, ip, dport in targets:
            if src is not None and (":" in src) != (":" in ip):
                continue  # another address family than the source
            out.append(Packet(_src_for_family(src, origin, spec.node_ips, ip), ip, dport, proto, origin, label, kind))
    if not out and not notes:
        if spec.protocol and snapshot.ports and not any(p.protocol.lower() == spec.protocol.lower() for p in snapshot.ports):
            have = ", ".join(f"{p.port or '?'}/{p.protocol}" for p in snapshot.ports)
            notes.append(f"the Service has no {spec.protocol.upper()} port (its ports: {have}): leave out --proto, or give "
                         "--to ADDR:PORT")
        else:
            notes.append("the Service has no address to send to (headless, or no port of this protocol)")
    return out, notes


def _source(spec: TraceSpec, pod_ip: str | None) -> tuple[str | None, str, str]:
    src = spec.source.strip()
    if src == "node":
        return None, "node", "node"
    if src == "outside":
        return None, "remote", "outside (address not given)"
    if spec.pod is not None:
        if pod_ip is None:
            raise UsageError(f"the address of {src} is not known", hint="give the pod's IP instead: --trace 10.1.2.3")
        return pod_ip, "remote", f"{src} ({pod_ip})"
    return ipaddress.ip_address(src).compressed, "remote", src


def _src_for_family(src: str | None, origin: str, node_ips: tuple[str, ...], dst: str) -> str | None:
    if origin != "node":
        return src
    same = [ip for ip in node_ips if (":" in ip) == (":" in dst)]
    return same[0] if same else None


def _protocol_for(snapshot: ServiceSnapshot, addr: str, port: int) -> str:
    matches = {p.protocol.lower() for p in snapshot.ports if port in (p.port, p.node_port)}
    return matches.pop() if len(matches) == 1 else "tcp"


def _vs_kind(snapshot: ServiceSnapshot, p: ServicePort, address: str, port: int) -> str:
    """A dump-only IPVS virtual server's role: the kind of address a pasted description names it, a node port
    when its port is the Service's node port, else not in the input."""
    for kind, ips in (("clusterIP", snapshot.cluster_ips), (snapshot.external_kind, snapshot.external_ips),
                      ("loadBalancer", snapshot.load_balancer_ips)):
        if address in ips:
            return kind
    return "nodePort" if p.node_port is not None and port == p.node_port else "virtualServer"


def _entry_of(snapshot: ServiceSnapshot, addr: str, port: int, node_ips: tuple[str, ...]) -> str | None:
    for kind, ip in snapshot.entry_addresses():
        if ip == addr and any(p.port == port for p in snapshot.ports):
            return kind
    if any(p.node_port == port for p in snapshot.ports) and (addr in node_ips or ipaddress.ip_address(addr).is_loopback):
        return "nodePort"
    return None


def pod_ip_from_snapshot(snapshot: ServiceSnapshot, spec: TraceSpec) -> str | None:
    """Offline: a pod named in the EndpointSlices (targetRef) has its address there."""
    pod = spec.pod
    if pod is None:
        return None
    ns, name = pod
    if ns is not None and ns != snapshot.namespace:
        return None
    for eps in snapshot.endpoints.values():
        for ep in eps:
            if ep.pod == name:
                return ep.ip
    return None


def trace_packet(parsed: Parsed, packet: Packet, node: Node, snapshot: ServiceSnapshot | None = None) -> Trace:
    """Follow ``packet`` with the evaluator of the node's proxy mode (modes/<mode>/trace.py)."""
    from kubectl_svcpath.modes import registry

    return registry.mode(parsed.mode).trace(parsed, packet, node, snapshot)


def trace_service(parsed: Parsed, snapshot: ServiceSnapshot, spec: TraceSpec, node_name: str | None,
                  pod_ip: str | None = None) -> TraceReport:
    node = Node(tuple(ipaddress.ip_address(ip).compressed for ip in spec.node_ips), bool(spec.node_ips))
    pkts, notes = packets(snapshot, spec, pod_ip if pod_ip is not None else pod_ip_from_snapshot(snapshot, spec))
    report = TraceReport(service=snapshot, node=node_name, mode=parsed.mode, notes=notes)
    for pk in pkts:
        report.traces.append(trace_packet(parsed, pk, node, snapshot))
    forked_on_source = any(c.kind == "unknown" and "source address" in c.why
                           for t in report.traces for b in t.branches for c in b.choices)
    if forked_on_source and spec.source == "node" and not spec.node_ips:
        report.notes.append("the node's own address is not known: rules that match the source address fork into both "
                            "outcomes (give it with --node-ip)")
    elif forked_on_source and spec.source == "outside":
        report.notes.append("the client's address is not given: rules that match the source address fork into both "
                            "outcomes (trace from the address itself: --trace 203.0.113.7)")
    return report

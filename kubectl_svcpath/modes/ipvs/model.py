"""The IPVS model: virtual servers (VIP:port) with their real servers, weights and counters.

Built by ``parse/ipvsadm.py`` from ``ipvsadm -Ln`` (scheduler, persistence, weights),
``ipvsadm -Ln --stats [--exact]`` (Conns/InPkts/OutPkts/InBytes/OutBytes), ``--rate`` and
``ipvsadm -Sn``; several listings of the same node merge into one table. IPVS knows no
Service names: correlation goes by protocol, address and port.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubectl_svcpath.modes.ipvs.ipset import IpSets
    from kubectl_svcpath.parse.ipaddr import Bound


@dataclass(slots=True)
class IpvsStats:
    conns: int
    inpkts: int
    outpkts: int
    inbytes: int
    outbytes: int
    exact: bool = True  # False: ipvsadm rounded big numbers (K/M/G/T) because --exact was not given


@dataclass(slots=True)
class IpvsRate:
    cps: int
    inpps: int
    outpps: int
    inbps: int
    outbps: int


@dataclass(slots=True, kw_only=True)
class _Listed:
    """What a virtual or real server line of ipvsadm carries besides its identity: counters, provenance."""

    stats: IpvsStats | None = None
    rate: IpvsRate | None = None
    source: str = ""
    line_no: int = 0
    raw: str = ""

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.line_no}" if self.line_no else self.source


@dataclass(slots=True)
class RealServer(_Listed):
    address: str  # "?": ipvsadm -l printed a host name instead (the name is in `host`)
    port: int | None  # None: not in the input (a host name ipvsadm cut short lost its port)
    forward: str | None = None  # "Masq" | "Route" | "Tunnel" | "Local"
    weight: int | None = None
    active_conns: int | None = None
    inactive_conns: int | None = None
    persistent_conns: int | None = None
    host: str | None = None


@dataclass(slots=True)
class VirtualServer(_Listed):
    protocol: str  # "TCP" | "UDP" | "SCTP" | "FWM"
    address: str  # VIP ("" for a firewall-mark service)
    port: int  # 0 for a firewall-mark service
    fwmark: int | None = None
    scheduler: str | None = None
    persistent: int | None = None  # seconds (ClientIP affinity)
    netmask: str | None = None
    flags: list[str] = field(default_factory=list)
    real_servers: list[RealServer] = field(default_factory=list)
    # the paste ends at this virtual server's line, no real server under it: any it has were below the cut (ipvsadm
    # prints no line after a listing's last real server that would show the listing ended there)
    cut_below: bool = False
    _index: dict[tuple[str, int | None, str | None], RealServer] = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.protocol, self.address, self.port)

    @property
    def label(self) -> str:
        if self.fwmark is not None:
            return f"FWM {self.fwmark}"
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.protocol} {host}:{self.port}"

    def real_server(self, address: str, port: int | None, host: str | None = None) -> RealServer:
        """The real server ip:port, added when a listing names it first (an index: 40k real servers); one printed
        by a host name is told apart by that name."""
        index = self._index
        if len(index) != len(self.real_servers):  # real_servers was built or changed without this method
            index.clear()
            index.update(((rs.address, rs.port, rs.host), rs) for rs in self.real_servers)
        rs = index.get((address, port, host))
        if rs is None:
            rs = index[(address, port, host)] = RealServer(address, port, host=host)
            self.real_servers.append(rs)
        return rs


@dataclass(slots=True)
class IpvsDumpInfo:
    source: str
    forms: list[str] = field(default_factory=list)  # "list" | "stats" | "rate" | "persistent-conn" | "thresholds" | "rules" | "procfs"
    version: str | None = None  # "1.2.1" from "IP Virtual Server version 1.2.1 (size=4096)"
    exact: bool = True
    notices: list[str] = field(default_factory=list)  # what the reader left out or could not read, for Report.notes
    excerpt: bool = False  # lines cut from a listing (no title lines): what they do not show may exist
    nodes: list[str] = field(default_factory=list)  # several nodes' identical listings read as one


@dataclass(slots=True)
class IpvsTable:
    virtual_servers: dict[tuple[str, str, int], VirtualServer] = field(default_factory=dict)
    dumps: list[IpvsDumpInfo] = field(default_factory=list)
    ipsets: IpSets | None = None  # kube-proxy's address sets, when an `ipset list` came with the listing
    bound: dict[str, Bound] = field(default_factory=dict)  # addresses `ip addr` output shows on kube-ipvs0
    # worked out when first asked after parsing (an --all audit asks once per Service); a merge forgets them
    _labels: dict[str, VirtualServer] = field(default_factory=dict, repr=False)
    _facts: dict[str, bool] = field(default_factory=dict, repr=False)
    _ports: dict[tuple[str, int], list[VirtualServer]] = field(default_factory=dict, repr=False)
    _ports_of: int = field(default=-1, repr=False)  # how many virtual servers _ports indexes

    def by_label(self, label: str) -> VirtualServer | None:
        """The virtual server printed as ``TCP 10.0.0.1:80`` (or ``FWM 7``); the first one of that label."""
        if len(self._labels) != len(self.virtual_servers):
            self._labels.clear()
            for vs in self.virtual_servers.values():
                self._labels.setdefault(vs.label, vs)
        return self._labels.get(label)

    def lookup(self, protocol: str, address: str, port: int | None) -> VirtualServer | None:
        if port is None:  # the Service's port number was not in the input
            return None
        return self.virtual_servers.get((protocol.upper(), normalize_ip(address), port))

    def on_port(self, protocol: str, port: int) -> list[VirtualServer]:
        """Every virtual server for this protocol and port, on any address (node ports), in listing order."""
        if self._ports_of != len(self.virtual_servers):  # indexed once after parsing, not scanned per Service
            self._ports.clear()
            for vs in self.virtual_servers.values():
                self._ports.setdefault((vs.protocol, vs.port), []).append(vs)
            self._ports_of = len(self.virtual_servers)
        return list(self._ports.get((protocol.upper(), port), ()))

    def ensure(self, protocol: str, address: str, port: int) -> VirtualServer:
        key = (protocol.upper(), normalize_ip(address), port)
        vs = self.virtual_servers.get(key)
        if vs is None:
            vs = self.virtual_servers[key] = VirtualServer(key[0], key[1], port)
        return vs

    @property
    def excerpt(self) -> bool:
        return any(d.excerpt for d in self.dumps)

    @property
    def has_stats(self) -> bool:
        if "stats" not in self._facts:
            self._facts["stats"] = any(vs.stats is not None for vs in self.virtual_servers.values())
        return self._facts["stats"]

    @property
    def has_weights(self) -> bool:
        if "weights" not in self._facts:
            self._facts["weights"] = any(rs.weight is not None for vs in self.virtual_servers.values() for rs in vs.real_servers)
        return self._facts["weights"]

    def merge(self, other: IpvsTable) -> None:
        """Add another listing of the same node (-Ln and -Ln --stats given as two files)."""
        for key, vs in other.virtual_servers.items():
            mine = self.virtual_servers.get(key)
            if mine is None:
                self.virtual_servers[key] = vs
                continue
            for attr in ("fwmark", "scheduler", "persistent", "netmask", "stats", "rate"):
                if getattr(mine, attr) is None:
                    setattr(mine, attr, getattr(vs, attr))
            if not mine.line_no:
                mine.source, mine.line_no, mine.raw = vs.source, vs.line_no, vs.raw
            for rs in vs.real_servers:
                target = mine.real_server(rs.address, rs.port, rs.host)
                for attr in ("forward", "weight", "active_conns", "inactive_conns", "persistent_conns", "stats", "rate"):
                    if getattr(target, attr) is None:
                        setattr(target, attr, getattr(rs, attr))
                if not target.line_no:
                    target.source, target.line_no, target.raw = rs.source, rs.line_no, rs.raw
        self.dumps.extend(other.dumps)
        if other.ipsets is not None:
            if self.ipsets is None:
                self.ipsets = other.ipsets
            else:
                self.ipsets.merge(other.ipsets)
        self._labels.clear()
        self._facts.clear()
        self._ports_of = -1


# an IPv4 address as ipaddress writes it (no leading zero, no octet past 255): its own compressed form, told
# without parsing it (a listing of 10^5 real servers went through ipaddress twice a line: ~2 s)
CANONICAL_V4 = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}")


def normalize_ip(address: str) -> str:
    if CANONICAL_V4.fullmatch(address):
        return address
    try:
        return ipaddress.ip_address(address.strip("[]")).compressed
    except ValueError:
        return address

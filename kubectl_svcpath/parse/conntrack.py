"""Read ``conntrack -L`` output (or /proc/net/nf_conntrack) into flows, to count connections.

kube-proxy's nftables mode has no counters; the connection tracking table still knows which
flows went to a service address and which endpoint answered (the reply tuple's source is
the DNAT'ed endpoint). Read-only: this only parses text someone listed.

Line shapes (conntrack-tools 1.4.x)::

    tcp      6 431999 ESTABLISHED src=A dst=VIP sport=P dport=80 [packets=N bytes=M] src=EP dst=A sport=8080 dport=P [packets=N bytes=M] [ASSURED] mark=0 use=1
    udp      17 29 src=A dst=VIP sport=P dport=53 [UNREPLIED] src=EP dst=A sport=53 dport=P mark=0 use=1
    ipv4     2 tcp      6 117 TIME_WAIT src=…          (-o extended, and /proc/net/nf_conntrack)
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from kubectl_svcpath.errors import BadDump

_LINE = re.compile(r"^(?:ipv[46]\s+\d+\s+)?([a-z][a-z0-9-]*)\s+(\d+)\s+(?:(\d+)\s+)?(.*\bsrc=\S+\s+dst=\S+.*)$")
_STATES = {"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT",
           "CLOSE", "LISTEN", "SYN_SENT2"}


@dataclass(slots=True)
class ConntrackEntry:
    proto: str
    orig_src: str
    orig_dst: str
    orig_sport: int | None
    orig_dport: int | None
    reply_src: str | None
    reply_dst: str | None
    reply_sport: int | None
    reply_dport: int | None
    state: str | None = None
    timeout: int | None = None
    packets: int | None = None  # both directions, with accounting on
    bytes: int | None = None
    orig_packets: int | None = None
    reply_packets: int | None = None
    assured: bool = False
    unreplied: bool = False
    mark: int | None = None
    line_no: int = 0
    raw: str = ""

    @property
    def dnat(self) -> bool:
        """The reply comes from another address than the original destination: destination NAT."""
        return self.reply_src is not None and (self.reply_src != self.orig_dst or self.reply_sport != self.orig_dport)


@dataclass(slots=True)
class ConntrackTable:
    source: str
    entries: list[ConntrackEntry] = field(default_factory=list)
    has_accounting: bool = False
    _by_dest: dict[tuple[str, str, int | None], list[ConntrackEntry]] | None = field(default=None, repr=False)
    _by_port: dict[tuple[str, int | None], list[ConntrackEntry]] | None = field(default=None, repr=False)

    def _index(self) -> None:
        self._by_dest, self._by_port = {}, {}
        for e in self.entries:
            self._by_dest.setdefault((e.proto, e.orig_dst, e.orig_dport), []).append(e)
            self._by_port.setdefault((e.proto, e.orig_dport), []).append(e)

    def to_address(self, proto: str, ip: str | None, port: int | None) -> list[ConntrackEntry]:
        """Flows whose original destination is ip:port (a service address)."""
        if self._by_dest is None:
            self._index()
        assert self._by_dest is not None
        return list(self._by_dest.get((proto.lower(), _norm(ip or ""), port), []))

    def to_port(self, proto: str, port: int | None) -> list[ConntrackEntry]:
        """DNAT'ed flows to a port on any address (node ports)."""
        if self._by_port is None:
            self._index()
        assert self._by_port is not None
        return [e for e in self._by_port.get((proto.lower(), port), []) if e.dnat]


def _norm(ip: str) -> str:
    try:
        return ipaddress.ip_address(ip).compressed
    except ValueError:
        return ip


def looks_like_conntrack(text: str) -> bool:
    """True when the first flow lines look like ``conntrack -L`` output."""
    seen = 0
    for line in text.splitlines()[:50]:
        s = line.strip()
        if not s or s.startswith(("conntrack v", "#")):  # ("# $ conntrack -L …": the pasted command, made a comment)
            continue
        if not _LINE.match(s):
            return False
        seen += 1
        if seen >= 1:
            return True
    return False


def parse_conntrack(text: str, source: str) -> ConntrackTable:
    table = ConntrackTable(source=source)
    for line_no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("conntrack v") or s.startswith("#"):
            continue
        m = _LINE.match(s)
        if m is None:
            raise BadDump(source, "not a conntrack -L line", line_no,
                          hint="pass the output of `conntrack -L` (optionally -p tcp, -d CLUSTER-IP)")
        proto, _, timeout, rest = m.groups()
        try:
            entry = _entry(proto, rest, line_no, s)
            entry.timeout = int(timeout) if timeout else None
        except ValueError:  # mark=1e3, a number over 4,300 digits: not what conntrack prints
            raise BadDump(source, f"unreadable number in {s[:80]!r}", line_no,
                          hint="pass the output of `conntrack -L` as it printed it") from None
        if entry.packets is not None:
            table.has_accounting = True
        table.entries.append(entry)
    return table


def _entry(proto: str, rest: str, line_no: int, raw: str) -> ConntrackEntry:
    tuples: list[dict[str, str]] = []
    state = None
    assured = unreplied = False
    mark = None
    for word in rest.split():
        if word in _STATES:
            state = word
            continue
        if word == "[ASSURED]":
            assured = True
            continue
        if word == "[UNREPLIED]":
            unreplied = True
            continue
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key == "src":
            tuples.append({})
        if key == "mark":
            mark = int(value, 0) if value[:1].isdigit() else None
            continue
        if tuples and key not in tuples[-1]:
            tuples[-1][key] = value
    orig = tuples[0] if tuples else {}
    reply = tuples[1] if len(tuples) > 1 else {}

    def port(d: dict[str, str], key: str) -> int | None:
        v = d.get(key)
        return int(v) if v and v.isdigit() else None

    def count(d: dict[str, str], key: str) -> int | None:
        v = d.get(key)
        return int(v) if v and v.isdigit() else None

    op, rp = count(orig, "packets"), count(reply, "packets")
    ob, rb = count(orig, "bytes"), count(reply, "bytes")
    packets = (op or 0) + (rp or 0) if op is not None or rp is not None else None
    nbytes = (ob or 0) + (rb or 0) if ob is not None or rb is not None else None
    return ConntrackEntry(
        proto=proto.lower(),
        orig_src=_norm(orig.get("src", "")), orig_dst=_norm(orig.get("dst", "")),
        orig_sport=port(orig, "sport"), orig_dport=port(orig, "dport"),
        reply_src=_norm(reply["src"]) if "src" in reply else None,
        reply_dst=_norm(reply["dst"]) if "dst" in reply else None,
        reply_sport=port(reply, "sport"), reply_dport=port(reply, "dport"),
        state=state, packets=packets, bytes=nbytes, orig_packets=op, reply_packets=rp,
        assured=assured, unreplied=unreplied, mark=mark, line_no=line_no, raw=raw,
    )

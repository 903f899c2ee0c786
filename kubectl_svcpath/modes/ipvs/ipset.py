"""``ipset list`` output: kube-proxy's IPVS-mode sets tell what kind of address a virtual server is.

ipvsadm lists a virtual server by address and port only. kube-proxy also puts each one in an ipset
(pkg/proxy/ipvs/ipset.go): every cluster IP,proto:port in ``KUBE-CLUSTER-IP`` (hash:ip,port), external
IPs in ``KUBE-EXTERNAL-IP`` / ``KUBE-EXTERNAL-IP-LOCAL``, load-balancer ingress IPs in ``KUBE-LOAD-BALANCER``
(``-LOCAL``, ``-FW``); IPv6 sets are named ``KUBE-6-…``. A pasted ``ipset list`` is the evidence that
``TCP 10.96.0.10:53`` is a cluster IP, which ipvsadm alone cannot say::

    Name: KUBE-CLUSTER-IP
    Type: hash:ip,port
    ...
    Members:
    10.96.0.10,udp:53
    10.96.0.1,tcp:443

``ipset`` prints a protocol by its number (``10.96.0.10,17:53``) where /etc/protocols is missing.

Every set of kube-proxy's (``KUBE-…``) is also kept whole (``KubeSet``): its type, its members and whether
the listing shows all of them, so that a packet's match on it (``--trace``) is read from its members.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from kubectl_svcpath.modes.ipvs.model import normalize_ip

# the way in each of kube-proxy's address sets holds (sets not listed here say nothing about a kind)
KINDS = {"KUBE-CLUSTER-IP": "clusterIP", "KUBE-EXTERNAL-IP": "externalIP", "KUBE-EXTERNAL-IP-LOCAL": "externalIP",
         "KUBE-LOAD-BALANCER": "loadBalancer", "KUBE-LOAD-BALANCER-LOCAL": "loadBalancer",
         "KUBE-LOAD-BALANCER-FW": "loadBalancer"}
# the sets every Service address goes in (an external IP of a Service with externalTrafficPolicy Local in the -LOCAL
# set alone; every load-balancer IP in KUBE-LOAD-BALANCER): pkg/proxy/ipvs/proxier.go syncProxyRules
_ADDRESS_SETS = ("KUBE-CLUSTER-IP", "KUBE-EXTERNAL-IP", "KUBE-EXTERNAL-IP-LOCAL", "KUBE-LOAD-BALANCER")
_PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "6": "TCP", "17": "UDP", "132": "SCTP"}
_NAME = re.compile(r"^Name:\s+(\S+)\s*$")
# "10.96.0.10,udp:53", "fd00::a,tcp:53" (ipset writes an IPv6 address bare), then maybe options
_IP_PORT = re.compile(r"^([0-9A-Fa-f.:]+),(\w+):(\d+)(?:\s|$)")


@dataclass(slots=True)
class Member:
    protocol: str  # "TCP" | "UDP" | "SCTP"
    address: str
    port: int
    source: str
    line_no: int
    raw: str


Key = tuple[object, ...]


@dataclass(slots=True)
class KubeSet:
    """One of kube-proxy's sets as the listing shows it: its members by their values (``member_key``)."""

    name: str
    type: str  # "hash:ip,port", "bitmap:port", …
    source: str
    line_no: int  # its "Name:" line
    members: dict[Key, tuple[int, str]] = field(default_factory=dict)  # member -> (line, as printed)
    nets: list[tuple[Key, tuple[int, str]]] = field(default_factory=list)  # members holding a network (hash:…,net)
    count: int | None = None  # "Number of entries: N" (ipset 7.x prints it)
    # its members end where the listing shows they do: another set's "Name:" after them, the end of a listing the
    # plugin ran itself, another command's lines after them; and no cut mark ("...") among them
    ended: bool = False
    last_line: int = 0  # the last line of its part of the listing (its members, or the blank line after them)

    @property
    def whole(self) -> bool:
        """The listing shows every member: as many as its own count says, or (no count) another set follows."""
        shown = len(self.members) + len(self.nets)
        return shown == self.count if self.count is not None else self.ended

    def holds(self, flags: str, protocol: str, dst: str, dport: int, src: str | None) -> bool | str:
        """Whether a packet matches ``-m set --match-set NAME FLAGS``; a string says why it cannot be told."""
        dims = _dims(self.type)
        wanted = flags.split(",")
        if dims is None or len(wanted) < len(dims):
            return f"ipset {self.name} ({flags}): its type {self.type} is not read"
        if not self.members and not self.nets and self.whole:
            return False
        query: list[object] = []
        for dim, flag in zip(dims, wanted, strict=False):
            if dim == "port":
                if flag != "dst":
                    return f"ipset {self.name} ({flags}): the source port is not known"
                query += [protocol.upper(), dport] if self.type != "bitmap:port" else [dport]
                continue
            value = dst if flag == "dst" else src
            if value is None:
                return f"ipset {self.name} ({flags}): the packet's source address is not given"
            query.append(normalize_ip(value) if dim == "ip" else value)
        found = tuple(query) in self.members if not self.nets else any(_in_net(query, key) for key, _ in self.nets)
        if found or self.whole:
            return found
        return f"ipset {self.name} ({flags}): the listing shows only part of its members"


def _dims(kind: str) -> list[str] | None:
    """The values a member of this set type holds, in order: ("ip", "port", "ip") for hash:ip,port,ip."""
    family, _, dims = kind.partition(":")
    parts = dims.split(",")
    return parts if family in ("hash", "bitmap") and all(p in ("ip", "port", "net") for p in parts) else None


def member_key(kind: str, text: str) -> Key | None:
    """A member as printed (``10.96.0.10,udp:53``, ``30725``, ``10.0.0.1,tcp:80,10.244.0.0/16``) -> its values:
    addresses normalised, protocols by name (``17`` is UDP), networks parsed. None: not a member of that type."""
    dims = _dims(kind)
    words = text.split()
    parts = words[0].split(",") if words else []
    if dims is None or len(parts) != len(dims):
        return None
    key: list[object] = []
    try:
        for dim, part in zip(dims, parts, strict=True):
            if dim == "port":
                proto, _, port = part.rpartition(":")
                if proto:
                    key.append(_PROTOCOLS.get(proto.lower(), proto.upper()))
                key.append(int(port))
            elif dim == "net":
                key.append(ipaddress.ip_network(part, strict=False))
            else:
                key.append(normalize_ip(part))
    except ValueError:
        return None
    return tuple(key)


def _in_net(query: list[object], key: Key) -> bool:
    if len(query) != len(key):
        return False
    for want, have in zip(query, key, strict=True):
        if isinstance(have, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
            try:
                if ipaddress.ip_address(str(want)) not in have:
                    return False
            except ValueError:
                return False
        elif want != have:
            return False
    return True


@dataclass(slots=True)
class IpSets:
    """The members of kube-proxy's address sets, by (protocol, address, port) -> (set name, member)."""

    members: dict[tuple[str, str, int], tuple[str, Member]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # every set the listing holds, in order
    sets: dict[str, KubeSet] = field(default_factory=dict)  # kube-proxy's own (KUBE-…), each with all it shows

    def kind_of(self, protocol: str, address: str, port: int) -> tuple[str, str, Member] | None:
        """(entry kind, set name, the member line) for a virtual server a kube-proxy set lists."""
        found = self.members.get((protocol.upper(), normalize_ip(address), port))
        if found is None:
            return None
        name, member = found
        return KINDS[name.replace("KUBE-6-", "KUBE-", 1)], name, member

    def node_port_set(self, protocol: str, port: int) -> tuple[str, int] | None:
        """(set name, member line) where kube-proxy's node-port set of this protocol (``KUBE-NODE-PORT-TCP``, bitmap:port;
        ``-LOCAL-``, ``KUBE-6-``) lists the port: a virtual server on it is a node port on a node address."""
        proto = protocol.upper()
        for name in (f"KUBE-NODE-PORT-{proto}", f"KUBE-NODE-PORT-LOCAL-{proto}", f"KUBE-6-NODE-PORT-{proto}",
                     f"KUBE-6-NODE-PORT-LOCAL-{proto}"):
            kset = self.sets.get(name)
            if kset is not None and kset.type == "bitmap:port" and (port,) in kset.members:
                return name, kset.members[(port,)][0]
        return None

    def unsure_address_sets(self, address: str) -> list[str]:
        """What the input lacks to rule out that ``address`` on a port is a Service address: kube-proxy's sets of
        cluster, external and load-balancer IPs (of its family) that are not in it, or not listed whole. [] when
        each is listed whole (then, none holding it, it is no Service address on that port)."""
        names = [n.replace("KUBE-", "KUBE-6-", 1) if ":" in address else n for n in _ADDRESS_SETS]
        absent = [n for n in names if n not in self.sets]
        part = [n for n in names if n in self.sets and not self.sets[n].whole]
        return ([f"{', '.join(absent)}: not in the input"] if absent else []) + (
            [f"{', '.join(part)}: not listed whole"] if part else [])

    def merge(self, other: IpSets) -> None:
        for key, value in other.members.items():
            self.members.setdefault(key, value)
        self.names += [n for n in other.names if n not in self.names]
        for name, kset in other.sets.items():
            self.sets.setdefault(name, kset)


_TYPE = re.compile(r"^Type:\s+(?:hash|bitmap|list):\S+\s*$")
# "Members:" (a paste cleaner may have made the lone label a "# Members:" note)
_MEMBERS = ("Members:", "# Members:")


def looks_like_ipset(text: str) -> bool:
    """An ipset listing: ``Name: SET`` with its ``Type: hash:…`` line right after, among the first lines."""
    lines = [ln.strip() for ln in text.splitlines()[:50]]
    return any(_NAME.match(a) and _TYPE.match(b) for a, b in zip(lines, lines[1:], strict=False))


# `ipset list` as it prints it (libipset session.c list_create/list_adt, plain mode): each set's "Name:", "Type:",
# header lines ("Revision:", "Header:", "Size in memory:", "References:", ipset 7's "Number of entries:"), "Members:",
# one member a line; a blank line before every set but the first, none after the last. A member starts with an
# address, a port or a MAC (list:set's set names do not: such a listing goes through the paste cleaner).
# The command line above it, as pasted ("$ sudo ipset list", "ipset list KUBE-CLUSTER-IP"), may be there.
_SET_PRINTED = (r"Name: [^\n]+\nType: [a-z]+:[a-z,]+\n(?:[A-Z][A-Za-z ]*: [^\n]*\n)*Members:"
                r"(?:\n[0-9a-fA-F:][^\n]*)*")
_COMMAND_PRINTED = r"[^\n]{0,80}?(?:^|[\s$#>])(?:sudo )?ipset (?:list|-L|-l|--list)(?: [\w.-]+)?[ \t]*\n+"
_LISTING_PRINTED = re.compile(rf"(?:{_COMMAND_PRINTED})?{_SET_PRINTED}(?:\n\n{_SET_PRINTED})*\n?")
AS_PRINTED = object()  # (RuleDump.feed of such a listing: nothing to hand on but that it was seen as printed)


def as_printed(text: str) -> bool:
    """The text is an `ipset list` as ipset printed it, every line of its shapes (no cut, prompt or note among
    them; a 180,000-line listing is told in ~0.04 s, where looking for those took ~0.9 s)."""
    return _LISTING_PRINTED.fullmatch(text) is not None


def parse_ipsets(text: str, source: str, to_the_end: bool = False,
                 cuts: tuple[int, ...] | list[int] = ()) -> tuple[IpSets, set[int]]:
    """kube-proxy's address sets in a text (an ``ipset list`` alone, or beside other commands' output),
    and the numbers of the lines that belong to the listing (its sets' header and member lines). A set
    starts with ``Name: SET`` and ``Type: …`` on the next line (a ``kubectl describe`` "Name:" is not one).

    ipset prints no line after a set's last member (libipset session.c: a blank line goes before each set's
    "Name:" but the first): a set's members end where the next set begins, where the listing ends when the text
    is one the plugin ran (``to_the_end``: the live pod's or --local's `ipset list`), where another command's
    lines begin in a paste, or where a paste ends after a whole member line (not mid-line: ``_ends_whole``).
    A set with a cut (``cuts``: the lines the author cut, "...") among its lines is not shown whole."""
    reader = _SetsReader(text.splitlines(), source, sorted(cuts))
    for i, line in enumerate(reader.lines):
        reader.line(i, line)
    if to_the_end:
        reader.close(len(reader.lines), reader.in_members)
    elif reader.kset is not None and reader.in_members:  # (the text ends in the last set's members)
        reader.close(len(reader.lines), _ends_whole(text, reader.kset))
    return reader.sets, reader.own


def _ends_whole(text: str, kset: KubeSet) -> bool:
    """A paste that ends with its last set's members ends where ipset's listing ends: its last line a whole member
    (or the set's "Members:" line) and the line's end after it. A paste that stops mid-line (no line end after its
    last line) may have been cut in that member or below it; one cut with "..." is not whole (``close``)."""
    body = text.rstrip(" \t\r")
    if not body.endswith("\n"):
        return False
    last = body.rstrip().rsplit("\n", 1)[-1].strip()
    if last in _MEMBERS:
        return True
    return _dims(kset.type) is None or member_key(kset.type, last) is not None


class _SetsReader:
    """parse_ipsets' walk: the set being read, whether its members have begun, the lines read as the listing's."""

    def __init__(self, lines: list[str], source: str, cuts: list[int]) -> None:
        self.lines, self.source, self.cuts = lines, source, cuts
        self.sets = IpSets()
        self.own: set[int] = set()
        self.name: str | None = None
        self.kset: KubeSet | None = None
        self.in_members = False

    def close(self, last: int, ended: bool) -> None:
        """The set being read ends at line ``last``; ``ended``: the listing shows its members end there."""
        k = self.kset
        if k is not None and not k.last_line:
            k.last_line = last
            k.ended = ended and not any(k.line_no <= n <= last for n in self.cuts)

    def line(self, i: int, line: str) -> None:
        s = line.strip()
        m = _NAME.match(s)
        if m and i + 1 < len(self.lines) and _TYPE.match(self.lines[i + 1].strip()):
            self.close(i, self.in_members)  # (the next set's header: nothing was cut after the last member)
            self._header(i, m.group(1))
        elif self.name is None:
            if self.kset is not None and self.in_members:
                self.close(i, True)  # (its members, a blank line, then another command's lines: ipset prints none)
                self.kset = None
        elif not self.in_members:
            if s in _MEMBERS or re.match(r"^[A-Z][\w ]*:", s):  # Type:, Revision:, Header:, References: …
                self.in_members = s in _MEMBERS
                count = re.match(r"^Number of entries:\s*(\d+)$", s)
                if count and self.kset is not None:
                    self.kset.count = int(count.group(1))
                self.own.add(i + 1)
            else:
                self.name = self.kset = None  # not an ipset header line: the listing ended
        elif not s:
            self.name = None  # a blank line ends a set's members
        elif self.kset is not None and not _kube_member(self.kset, s, i + 1):
            self.close(i, True)  # (another command's lines after its members: the listing ended there)
            self.name = self.kset = None
            self.in_members = False
        else:
            self.own.add(i + 1)
            _member(self.sets, self.name, s, self.source, i + 1, line)

    def _header(self, i: int, name: str) -> None:
        self.name, self.in_members, self.kset = name, False, None
        self.sets.names.append(name)
        if name.startswith("KUBE-"):
            kind = self.lines[i + 1].split(":", 1)[1].strip()
            self.kset = self.sets.sets.setdefault(name, KubeSet(name, kind, self.source, i + 1))
        self.own.add(i + 1)


def uncut(sets: IpSets, cuts: tuple[int, ...] | list[int]) -> None:
    """A set with a cut ("...") among its lines in a listing read beside another (ipvsadm's) is not shown whole."""
    for k in sets.sets.values():
        if k.ended and any(k.line_no <= n <= k.last_line for n in cuts):
            k.ended = False


def _kube_member(kset: KubeSet, s: str, line_no: int) -> bool:
    """Keep one member of kube-proxy's set; False: the line is none of its type (a set of a type not read: True)."""
    key = member_key(kset.type, s)
    if key is None:
        return _dims(kset.type) is None
    if any(isinstance(v, (ipaddress.IPv4Network, ipaddress.IPv6Network)) for v in key):
        kset.nets.append((key, (line_no, s)))
    else:
        kset.members.setdefault(key, (line_no, s))
    return True


def _member(sets: IpSets, name: str, s: str, source: str, line_no: int, raw: str) -> None:
    if name.replace("KUBE-6-", "KUBE-", 1) not in KINDS:
        return
    m = _IP_PORT.match(s)
    proto = _PROTOCOLS.get(m.group(2).lower()) if m else None
    if m is None or proto is None:
        return
    key = (proto, normalize_ip(m.group(1)), int(m.group(3)))
    sets.members.setdefault(key, (name, Member(proto, key[1], key[2], source, line_no, raw.strip())))

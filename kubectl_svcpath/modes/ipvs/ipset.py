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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubectl_svcpath.modes.ipvs.model import normalize_ip

# the way in each of kube-proxy's address sets holds (sets not listed here say nothing about a kind)
KINDS = {"KUBE-CLUSTER-IP": "clusterIP", "KUBE-EXTERNAL-IP": "externalIP", "KUBE-EXTERNAL-IP-LOCAL": "externalIP",
         "KUBE-LOAD-BALANCER": "loadBalancer", "KUBE-LOAD-BALANCER-LOCAL": "loadBalancer",
         "KUBE-LOAD-BALANCER-FW": "loadBalancer"}
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


@dataclass(slots=True)
class IpSets:
    """The members of kube-proxy's address sets, by (protocol, address, port) -> (set name, member)."""

    members: dict[tuple[str, str, int], tuple[str, Member]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)  # every set the listing holds, in order

    def kind_of(self, protocol: str, address: str, port: int) -> tuple[str, str, Member] | None:
        """(entry kind, set name, the member line) for a virtual server a kube-proxy set lists."""
        found = self.members.get((protocol.upper(), normalize_ip(address), port))
        if found is None:
            return None
        name, member = found
        return KINDS[name.replace("KUBE-6-", "KUBE-", 1)], name, member

    def merge(self, other: IpSets) -> None:
        for key, value in other.members.items():
            self.members.setdefault(key, value)
        self.names += [n for n in other.names if n not in self.names]


_TYPE = re.compile(r"^Type:\s+(?:hash|bitmap|list):\S+\s*$")
# "Members:" (a paste cleaner may have made the lone label a "# Members:" note)
_MEMBERS = ("Members:", "# Members:")


def looks_like_ipset(text: str) -> bool:
    """An ipset listing: ``Name: SET`` with its ``Type: hash:…`` line right after, among the first lines."""
    lines = [ln.strip() for ln in text.splitlines()[:50]]
    return any(_NAME.match(a) and _TYPE.match(b) for a, b in zip(lines, lines[1:], strict=False))


def parse_ipsets(text: str, source: str) -> tuple[IpSets, set[int]]:
    """kube-proxy's address sets in a text (an ``ipset list`` alone, or beside other commands' output),
    and the numbers of the lines that belong to the listing (its sets' header and member lines). A set
    starts with ``Name: SET`` and ``Type: …`` on the next line (a ``kubectl describe`` "Name:" is not one)."""
    sets = IpSets()
    own: set[int] = set()
    lines = text.splitlines()
    name: str | None = None
    in_members = False
    for i, line in enumerate(lines):
        s = line.strip()
        m = _NAME.match(s)
        if m and i + 1 < len(lines) and _TYPE.match(lines[i + 1].strip()):
            name, in_members = m.group(1), False
            sets.names.append(name)
            own.add(i + 1)
            continue
        if name is None:
            continue
        if not in_members:
            if s in _MEMBERS or re.match(r"^[A-Z][\w ]*:", s):  # Type:, Revision:, Header:, References: …
                in_members = in_members or s in _MEMBERS
                own.add(i + 1)
                continue
            name = None  # not an ipset header line: the listing ended
            continue
        if not s:
            name = None  # a blank line ends a set's members
            continue
        own.add(i + 1)
        _member(sets, name, s, source, i + 1, line)
    return sets, own


def _member(sets: IpSets, name: str, s: str, source: str, line_no: int, raw: str) -> None:
    if name.replace("KUBE-6-", "KUBE-", 1) not in KINDS:
        return
    m = _IP_PORT.match(s)
    proto = _PROTOCOLS.get(m.group(2).lower()) if m else None
    if m is None or proto is None:
        return
    key = (proto, normalize_ip(m.group(1)), int(m.group(3)))
    sets.members.setdefault(key, (name, Member(proto, key[1], key[2], source, line_no, raw.strip())))

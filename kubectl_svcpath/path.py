"""Where a packet goes, per service port: the result of correlation, for every proxy mode.

iptables, nftables and IPVS correlators all produce these objects, so diagnosis and
rendering do not care which mode the node runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kubectl_svcpath.findings.model import SEVERITY_ORDER, Finding  # their home is findings/; imported here too
from kubectl_svcpath.snapshot import ServicePort
from kubectl_svcpath.wording import agrees, listed

if TYPE_CHECKING:  # (expected.py reads endpoints.py, which reads this module)
    from kubectl_svcpath.expected import ExpectedPort

__all__ = ["ENTRY_KINDS", "SEVERITY_ORDER", "EndpointHop", "EntryPath", "Evidence", "Finding", "PortPath", "dnat_unseen_note",
           "host_port"]

# "virtualServer": an IPVS virtual server whose role (cluster IP, external or LB IP) the input does not say;
# "address": an nftables service address of that kind (a no-endpoint-services element, no cluster-ips set);
# "external": an nftables address led to the external chain, an external IP or a load-balancer IP (written alike)
ENTRY_KINDS = ("clusterIP", "nodePort", "loadBalancer", "externalIP", "external", "virtualServer", "address")


def dnat_unseen_note(hops: list[EndpointHop], named_by: tuple[str, str]) -> str | None:
    """The port's ``not in the input`` line for endpoint hops whose DNAT rule the input does not show (their
    ``dnat_unseen``); ``named_by`` says where an address shown came from, for one and for several ("its chain's
    name", "their chains' names")."""
    gone = list(dict.fromkeys(h.chain for h in hops if h.dnat_unseen == "chain" and h.chain))
    part = list(dict.fromkeys(h.chain for h in hops if h.dnat_unseen == "rule" and h.chain))
    if not gone and not part:
        return None
    said = ([f"{listed(gone)} {agrees(len(gone), 'is', 'are')} not"] if gone else []) + (
        [f"{listed(part)} {agrees(len(part), 'is', 'are')} in it without {agrees(len(part), 'its', 'their')} DNAT rule"]
        if part else [])
    named = len({h.chain for h in hops if h.dnat_unseen and h.ip not in (None, "?")})
    tail = (f"; the {agrees(named, 'address', 'addresses')} shown {agrees(named, 'is', 'are')} from "
            f"{named_by[0] if named == 1 else named_by[1]}" if named else "")
    return f"endpoint DNAT: not in the input ({'; '.join(said)}{tail})"


def host_port(ip: str, port: int | None) -> str:
    """``ip:port`` as kube-proxy, curl and ipvsadm write it: an IPv6 address in brackets ("?" for no port)."""
    shown = port if port is not None else "?"
    return f"[{ip}]:{shown}" if ":" in ip else f"{ip}:{shown}"


@dataclass(slots=True)
class Evidence:
    """A rule (or map element, or virtual server line) that proves a hop."""

    source: str
    line_no: int | None
    text: str

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.line_no}" if self.line_no else self.source

    @property
    def line(self) -> str:
        """``file:12  -A KUBE-SERVICES …``: how a finding cites this evidence."""
        return f"{self.ref}  {self.text}"


@dataclass(slots=True)
class EndpointHop:
    ip: str
    port: int | None
    chain: str | None  # KUBE-SEP-…, endpoint-…; None in IPVS mode
    probability: float | None  # effective share of new connections reaching this endpoint
    packets: int | None = None  # counters of the DNAT rule (new connections)
    bytes: int | None = None
    weight: int | None = None  # IPVS real-server weight
    ready: bool | None = None  # from the EndpointSlice; None: not in any slice / unknown
    serving: bool | None = None
    terminating: bool | None = None
    node: str | None = None
    in_slices: bool | None = None  # None in dump-only mode
    affinity: bool = False  # a ClientIP affinity ("recent"/set) rule points here too
    evidence: list[Evidence] = field(default_factory=list)
    connections: int | None = None  # conntrack flows / IPVS Conns to this endpoint (nftables, IPVS modes)
    # IPVS: the real server's (ActiveConn, InActConn) as ipvsadm -Ln lists them now, each None when the listing
    # has no such column (--stats, --rate, -Sn); None outside IPVS mode
    conns: tuple[int | None, int | None] | None = None
    expected: Expected | None = None  # should this node program it here, and why (None: no API objects)
    # its DNAT rule is not in the input, so where it sends traffic is not seen (the address, if any, is the one its
    # chain's name or the jump's comment gives): "chain" (the endpoint chain is not in the input), "rule" (the chain
    # is, in part, without its DNAT rule); None: seen, or not a chain's
    dnat_unseen: str | None = None

    @property
    def hostport(self) -> str:
        return host_port(self.ip, self.port)


@dataclass(slots=True)
class Expected:
    """Whether kube-proxy should program an endpoint on this node for this way in (expected.py decides)."""

    programmed: bool | None  # None: cannot be told (the node's zone or name is not known)
    reason: str  # "ready", "out of zone (hints for zone-b)", "not local", "terminating: fallback …"


@dataclass(slots=True)
class EntryPath:
    """One way in (cluster IP, node port, LB ingress, external IP) and where it leads."""

    entry: str | None  # one of ENTRY_KINDS; None: the entry rule is not in the input (the path starts at its chain)
    address: str | None  # the destination IP matched, None for node ports (any local address)
    port: int | None  # the destination port matched (nodePort for node ports)
    chains: list[str]  # ordered: dispatch chain … service chain (KUBE-SERVICES → KUBE-SVC-…)
    packets: int | None = None  # entry rule counters (None: no counters in the input)
    bytes: int | None = None
    # "forward" | "reject" (no endpoints) | "drop" (no local endpoints) | "missing" (the chain is empty or absent,
    # proved by a whole table) | "not-in-input" (the path leads to a chain the input does not show)
    verdict: str = "forward"
    policy_chain: str | None = None  # the chain that picks endpoints (KUBE-SVC-/KUBE-SVL-)
    endpoints: list[EndpointHop] = field(default_factory=list)
    source_ranges: list[str] = field(default_factory=list)  # loadBalancerSourceRanges in KUBE-FW
    evidence: list[Evidence] = field(default_factory=list)
    shown_port: bool = True  # False: the entry rule, as printed, carries no port match
    connections: int | None = None  # conntrack flows / IPVS Conns through this entry (nftables, IPVS modes)
    # verdict "not-in-input" for another reason than a missing chain: what the input does not show
    # ("its real servers (the listing is cut)" for an IPVS virtual server)
    unseen: str | None = None
    # the policy chain is in the input in part and its endpoint jumps shown are not a whole cascade: more may exist
    endpoints_in_part: bool = False
    in_part_why: str | None = None  # … and why, when the input says more than that ("the pasted grep's word is …")
    # the entry rule is not in the input, only its masquerade twin (KUBE-SERVICES before 1.21), which names the port
    jump_unseen: bool = False


@dataclass(slots=True)
class PortPath:
    port: ServicePort
    paths: list[EntryPath] = field(default_factory=list)
    service_chain: str | None = None  # KUBE-SVC-… (or service-…) derived from the name hash
    local_chain: str | None = None  # KUBE-SVL-… (or local-…)
    affinity_timeout: int | None = None  # seconds, when ClientIP affinity rules are present
    missing_endpoints: list[EndpointHop] = field(default_factory=list)  # in slices, no rule
    # endpoints of the slices that this node rightly leaves out (out of zone, not local, …), with why
    left_out_endpoints: list[EndpointHop] = field(default_factory=list)
    expected: ExpectedPort | None = None  # what kube-proxy should program for this port here (None: no API objects)
    # facts about this port the input does not show, each "what: why" ("entry rule: KUBE-SERVICES is not in the input")
    not_in_input: list[str] = field(default_factory=list)
    # False: the input does not hold every rule that could send traffic to this port (an excerpt), so
    # "no rule sends traffic to it" cannot be said
    entries_complete: bool = True

"""What a packet trace is made of: the packet, the rules it hit, its branches and its verdict.

An evaluator (iptables, nftables, IPVS) follows one packet through the node's rules and
returns a Trace. Where the rules choose at random (``statistic``, ``numgen``, IPVS weights),
depend on earlier connections (``recent``, affinity sets, IPVS persistence) or hold a match
the evaluator cannot decide (an unknown module, an address the input does not give), the
trace forks: every branch carries the choices that led to it, so a reader sees both outcomes
and the share of new connections each one gets, never a guess presented as the answer.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

ORIGINS = ("node", "remote")  # node: the OUTPUT path; remote: arrives on an interface (PREROUTING)
VERDICTS = ("delivered", "rejected", "dropped", "not-a-service", "unknown")


@dataclass(frozen=True, slots=True)
class Packet:
    """The first packet of a new connection, as it enters the node's rules."""

    src: str | None  # None: not known (``outside`` or ``node`` without --node-ip)
    dst: str
    dport: int
    protocol: str = "tcp"  # tcp | udp | sctp
    origin: str = "remote"  # one of ORIGINS
    src_label: str = ""  # how the user named the source: "node", "outside", "pod/web-1 (10.0.1.5)"
    entry: str | None = None  # the Service entry it was sent to: clusterIP, nodePort, loadBalancer, externalIP

    @property
    def family(self) -> int:
        return 6 if ":" in self.dst else 4


@dataclass(frozen=True, slots=True)
class Node:
    """What the trace knows about the node the packet is on."""

    addresses: tuple[str, ...] = ()  # the node's own addresses (--node-ip, or the Node object)
    addresses_known: bool = False  # False: addrtype LOCAL / fib type local can only be decided for loopback

    def is_local(self, addr: str | None) -> bool | None:
        """True/False when it can be told; None when the input does not say."""
        if addr is None:
            return None
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return None
        if ip.is_loopback:
            return True
        if addr in self.addresses or ip.compressed in self.addresses:
            return True
        return False if self.addresses_known else None


@dataclass(slots=True)
class Step:
    """One rule (map element, virtual server) the packet hit, with what it did."""

    where: str  # "nat KUBE-SERVICES #3", "ip kube-proxy services", "IPVS TCP 10.0.0.1:443"
    text: str  # the rule as read (evidence)
    ref: str  # file:line or file#/json/pointer
    action: str  # what it did to the packet: "jump KUBE-SVC-…", "DNAT to 10.0.0.5:80", "mark |= 0x4000"
    note: str | None = None  # e.g. "kernel's view: tcp dport 49191 (nft …)"; "assumed: …"
    packets: int | None = None  # the rule's own counter, when the input carried it

    def to_dict(self) -> dict[str, Any]:
        return {"where": self.where, "rule": self.text, "ref": self.ref, "action": self.action,
                "note": self.note, "packets": self.packets}


@dataclass(frozen=True, slots=True)
class Choice:
    """A fork: which way this branch went at a rule, and the share of new connections that go so.

    ``factor`` is the probability of this side (statistic, numgen, IPVS weight); 1.0 for the
    side a first connection takes at an affinity check; None where it cannot be known (the
    returning-client side of affinity; a match the evaluator does not understand).
    """

    kind: str  # "random" | "affinity" | "unknown"
    where: str  # the rule's place (Step.where)
    ref: str
    taken: str  # "matched" / "not matched" / "element 1 of 3"
    factor: float | None
    why: str  # plain words: "random choice 1 of 2", "the client connected to 10.0.0.5 in the last 10800 s"

    def went_on(self, then: Choice) -> Choice | None:
        """This choice and ``then`` as one, when both pass a random rule of the same chain and ``then``'s
        rule is the next one ("nat KUBE-SVC-X #1-3": the packet went on past rules 1 to 3, with the product
        of their probabilities); None otherwise."""
        if not (self.kind == then.kind == "random" and self.taken == then.taken == "not matched"):
            return None
        if self.factor is None or then.factor is None:
            return None
        head, sep, first = self.where.rpartition(" #")
        head2, sep2, last = then.where.rpartition(" #")
        if not sep or not sep2 or head != head2 or not _next_to(first, last):
            return None
        factor = self.factor * then.factor
        count = _passed(first) + _passed(last)
        return Choice("random", f"{head} #{first.split('-')[0]}-{last.split('-')[-1]}", self.ref, "not matched", factor,
                      f"random: probability {factor:.4g} of going on past {count} rules")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "ref": self.ref, "taken": self.taken,
                "probability": None if self.factor is None else round(self.factor, 9), "why": self.why}


def _next_to(first: str, then: str) -> bool:
    """Rule positions ``then`` start right after ``first`` end ("1-3" then "4"): no other rule between."""
    a, b = first.rpartition("-")[2], then.partition("-")[0]
    return a.isdigit() and b.isdigit() and int(b) == int(a) + 1


def _passed(positions: str) -> int:
    """How many rules a choice's place names: "4" one, "1-3" three."""
    first, _, last = positions.partition("-")
    try:
        return int(last) - int(first) + 1 if last else 1
    except ValueError:
        return 1


@dataclass(slots=True)
class Branch:
    """One way the packet can go, start to end."""

    steps: list[Step] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    dnat: tuple[str, int | None] | None = None  # the destination after DNAT (endpoint ip, port)
    dnat_step: Step | None = None
    masquerade: bool | None = None  # the source is rewritten on the way out; None: not evaluated
    masquerade_why: Step | None = None  # the rule that set the masquerade mark (KUBE-MARK-MASQ jump)
    masquerade_step: Step | None = None  # the MASQUERADE rule itself
    verdict: str = "not-a-service"  # one of VERDICTS
    verdict_step: Step | None = None  # the rule that rejected/dropped it (or the policy)
    reason: str = ""  # one line: why this verdict

    @property
    def share(self) -> float | None:
        """The share of new connections (from a client with no earlier ones) that take this branch."""
        p = 1.0
        for c in self.choices:
            if c.factor is None:
                return None
            p *= c.factor
        return p

    @property
    def first_connection(self) -> bool:
        """The branch a client's first connection can take: no affinity hit, no unknown match."""
        return all(c.kind == "random" or (c.kind == "affinity" and c.factor is not None) for c in self.choices)

    @property
    def endpoint(self) -> str | None:
        if self.dnat is None:
            return None
        ip, port = self.dnat
        host = f"[{ip}]" if ":" in ip else ip
        return host if port is None else f"{host}:{port}"

    def to_dict(self) -> dict[str, Any]:
        share = self.share
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "endpoint": None if self.dnat is None else {"ip": self.dnat[0], "port": self.dnat[1]},
            "share": None if share is None else round(share, 9),
            "firstConnection": self.first_connection,
            "masquerade": self.masquerade,
            "masqueradeBecause": None if self.masquerade_why is None else self.masquerade_why.to_dict(),
            "choices": [c.to_dict() for c in self.choices],
            "verdictRule": None if self.verdict_step is None else self.verdict_step.to_dict(),
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(slots=True)
class Trace:
    packet: Packet
    mode: str  # iptables | nftables | ipvs
    branches: list[Branch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # assumptions and what the input lacked, in plain words
    kernel_view: bool = False  # a rule's hidden match was read from the kernel's own listing (nft)

    @property
    def summary(self) -> str:
        """One word for the whole trace: the verdict when every branch agrees, else "depends"."""
        kinds = {b.verdict for b in self.branches}
        return kinds.pop() if len(kinds) == 1 else "depends"

    def endpoints(self) -> set[tuple[str, int | None]]:
        return {b.dnat for b in self.branches if b.dnat is not None and b.verdict == "delivered"}

    def to_dict(self) -> dict[str, Any]:
        p = self.packet
        return {
            "packet": {"from": p.src_label, "source": p.src, "destination": p.dst, "port": p.dport,
                       "protocol": p.protocol, "path": "OUTPUT" if p.origin == "node" else "PREROUTING", "entry": p.entry},
            "proxyMode": self.mode,
            "verdict": self.summary,
            "kernelView": self.kernel_view,
            "branches": [b.to_dict() for b in self.branches],
            "notes": list(self.notes),
        }

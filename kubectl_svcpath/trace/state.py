"""The packet as it moves through the rules, one copy per branch."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kubectl_svcpath.trace.match import ENDPOINT_ADDRESS
from kubectl_svcpath.trace.model import Branch, Choice, Node, Packet, Step
from kubectl_svcpath.wording import listed

MAX_BRANCHES = 4096  # a rule set that forks more than this is cut short with a note, not a hang


@dataclass(slots=True)
class State:
    packet: Packet
    node: Node
    dst: str
    dport: int
    mark: int = 0
    dnat_done: bool = False  # conntrack's DNAT status: the destination was rewritten
    mark_unknown: bool = False  # a chain that may set the mark was not in the input
    kernel_note: str | None = None  # the rule being applied had a match read from the kernel's view
    branch: Branch = field(default_factory=Branch)

    @classmethod
    def start(cls, packet: Packet, node: Node) -> State:
        return cls(packet=packet, node=node, dst=packet.dst, dport=packet.dport)

    @property
    def src(self) -> str | None:
        return self.packet.src

    @property
    def protocol(self) -> str:
        return self.packet.protocol

    def src_local(self) -> bool | None:
        if self.packet.origin == "node" and self.packet.src is None:
            return True  # the node's own traffic leaves from one of its addresses
        if self.packet.origin == "remote" and self.packet.src is None:
            return False  # "outside": a client elsewhere never sends from one of this node's addresses
        return self.node.is_local(self.src)

    def fork(self, choice: Choice | None) -> State:
        b = self.branch
        choices = list(b.choices)
        if choice is not None:
            run = choices[-1].went_on(choice) if choices else None
            if run is not None:  # (one choice for a run of random rules passed: a Service of n endpoints
                choices[-1] = run  # forks n times, and n choices a branch made its trace n^2 long)
            else:
                choices.append(choice)
        return replace(self, branch=replace(b, steps=list(b.steps), choices=choices))

    def hit(self, step: Step) -> Step:
        self.branch.steps.append(step)
        return step

    def set_dnat(self, ip: str, port: int | None, step: Step) -> None:
        self.dst = ip
        if port is not None:
            self.dport = port
        self.dnat_done = True
        self.branch.dnat = (ip, port if port is not None else self.dport)
        self.branch.dnat_step = step


def finish(st: State, kind: str, step: Step | None, reason: str) -> None:
    """The packet stopped at a rule: ``kind`` is drop / reject (either case) or anything else for "unknown"."""
    b = st.branch
    k = kind.lower()
    if k == "drop":
        b.verdict, b.verdict_step = "dropped", step
        b.reason = reason or f"dropped by {step.where if step else 'a rule'}"
    elif k == "reject":
        b.verdict, b.verdict_step = "rejected", step
        b.reason = reason or f"rejected by {step.where if step else 'a rule'}"
    else:
        b.verdict, b.verdict_step = "unknown", step
        b.reason = reason or "the trace cannot follow this rule"


# a jump into a Service's own chains (iptables mode): the rule that took it matched a Service's address
_SERVICE_JUMPS = tuple(f"{verb} KUBE-{kind}-" for verb in ("jump", "goto", "-j", "-g") for kind in ("SVC", "SVL", "EXT", "FW", "XLB"))


def _cluster_ip_masquerade(step: Step) -> bool:
    """A KUBE-SERVICES rule that marked the packet for masquerade: before 1.21 kube-proxy wrote a Service address's
    masquerade rule there (its cluster IP's, an external IP's), above the jump to the service chain: it matched a
    Service's address too."""
    return step.where.startswith("nat KUBE-SERVICES #") and step.action.startswith(("-j KUBE-MARK-MASQ", "jump KUBE-MARK-MASQ"))


def went_through(st: State) -> None:
    """The packet passed every hook: delivered when a Service rule rewrote it, else not a Service address."""
    b = st.branch
    if b.dnat is not None:
        b.verdict = "delivered"
        b.reason = f"DNAT to {b.endpoint}"
        if b.masquerade:
            b.reason += ", source masqueraded to the node's address"
    elif (matched := next((x for x in b.steps if x.action.startswith(_SERVICE_JUMPS) or _cluster_ip_masquerade(x)), None)) is not None:
        # a Service's rule matched the destination, and the chain it jumps to did not rewrite it here (a chain the input
        # lacks, assumed to return; or one shown in part): the address is a Service's all the same
        b.verdict = "not-a-service"
        b.reason = (f"no rule shown rewrote the destination, though {matched.where} matched it as a Service's "
                    f"({matched.action}): in this branch the packet goes on unchanged")
    else:
        b.verdict = "not-a-service"
        b.reason = "no Service rule rewrote the destination: not a Service address (the packet goes on unchanged)"


def close(local: list[State], leaving: list[State], postrouting: bool = True) -> None:
    """End of the hooks: a packet that left without a masquerade rule is not masqueraded, when ``postrouting`` (the
    rules it leaves through are in the input; else whether it is stays unknown); every survivor went through."""
    for s in leaving:
        if s.branch.masquerade is None and postrouting:
            s.branch.masquerade = False
    for s in local + leaving:
        went_through(s)


def ordered(branches: list[Branch]) -> list[Branch]:
    """First-connection branches by share (largest first), then the conditional ones; of equal shares
    (up to a product's rounding), by endpoint address (10.0.0.9 before 10.0.0.10)."""
    return sorted(branches, key=lambda b: (not b.first_connection, -float(f"{b.share or 0.0:.6g}"), address_order(b.dnat)))


def address_order(dnat: tuple[str, int | None] | None) -> tuple[int, int, int]:
    """Destinations in address order (10.0.0.9 before 10.0.0.10), then by port; none first, what is no address last."""
    if dnat is None:
        return (0, 0, 0)
    try:
        address = ipaddress.ip_address(dnat[0])
    except ValueError:
        return (9, 0, 0)
    return (address.version, int(address), dnat[1] or 0)


def routed(states: list[State], node: Node, hook: str, note: Callable[[str], None]) -> tuple[list[State], list[State]]:
    """After the prerouting hooks: the packets for the node itself, and those it forwards (through ``hook``). A
    destination the node's addresses do not place (no --node-ip) is taken as not local, and ``note`` told so once."""
    local: list[State] = []
    forward: list[State] = []
    unplaced: list[str] = []
    for s in states:
        is_local = node.is_local(s.dst)
        if is_local is None:
            unplaced.append(s.dst)
            is_local = False
        (local if is_local else forward).append(s)
    if unplaced:
        note(not_local_note(unplaced, hook))
    return local, forward


def not_local_note(addresses: list[str], hook: str) -> str:
    """What the trace assumed of destinations it could not place (no --node-ip): one note for them all,
    not one per endpoint (a Service of 300 endpoints made 300)."""
    seen = list(dict.fromkeys(addresses))
    if len(seen) == 1:
        return (f"the node's addresses are not known (give --node-ip): {seen[0]} was taken as not local, "
                f"so the packet was followed through {hook}")
    return (f"the node's addresses are not known (give --node-ip): {listed(seen)} were taken as not local, "
            f"so the packets were followed through {hook}")


class OutsideNotes:
    """What ``--trace outside`` decided about source matches (trace.match.outside_excludes), as notes:
    one for each prefix, but one for all the endpoints' own addresses (a Service of 300 endpoints has
    300 hairpin matches, one in each endpoint chain)."""

    def __init__(self) -> None:
        self.decided: dict[str, str] = {}  # prefix -> why it is not the client's

    def add(self, spec: str, why: str) -> None:
        self.decided.setdefault(spec, why)

    def notes(self) -> list[str]:
        own = [spec for spec, why in self.decided.items() if why == ENDPOINT_ADDRESS]
        by_why: dict[str, list[str]] = {}
        for spec, why in self.decided.items():
            if why != ENDPOINT_ADDRESS or len(own) == 1:
                by_why.setdefault(why, []).append(spec)
        # (a network policy's rule per pod: "-s 10.42.0.31/32", … each inside the pod range, said once)
        out = [f"outside: a client outside the cluster is not in {specs[0]} ({why}): decided, not forked" if len(specs) == 1
               else f"outside: a client outside the cluster is in none of {listed(specs)} ({why}): decided, not forked"
               for why, specs in by_why.items()]
        if len(own) > 1:
            out.append(f"outside: a client outside the cluster is none of the {len(own)} endpoints' own addresses "
                       f"({listed(own)}: each endpoint chain's hairpin match): decided, not forked")
        return out


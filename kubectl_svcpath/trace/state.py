"""The packet as it moves through the rules, one copy per branch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from kubectl_svcpath.trace.model import Branch, Choice, Node, Packet, Step

MAX_BRANCHES = 4096  # a rule set that forks more than this is cut short with a note, not a hang


@dataclass(slots=True)
class State:
    packet: Packet
    node: Node
    dst: str
    dport: int
    mark: int = 0
    dnat_done: bool = False  # conntrack's DNAT status: the destination was rewritten
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
        return self.node.is_local(self.src)

    def fork(self, choice: Choice | None) -> State:
        b = self.branch
        branch = replace(b, steps=list(b.steps), choices=list(b.choices) + ([choice] if choice else []))
        return replace(self, branch=branch)

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

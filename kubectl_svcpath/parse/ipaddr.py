"""`ip addr` output beside IPVS listings: the addresses bound to ``kube-ipvs0``.

kube-proxy's IPVS mode binds every Service address it serves (cluster IPs, external and load-balancer IPs) to the
dummy interface ``kube-ipvs0``, never a node address: an address listed there is a Service's. People paste
``ip addr show kube-ipvs0`` (or all of ``ip a``) next to ``ipvsadm -Ln``::

    9: kube-ipvs0: <BROADCAST,NOARP> mtu 1500 qdisc noop state DOWN group default
        link/ether 02:01:44:76:7b:65 brd ff:ff:ff:ff:ff:ff
        inet 10.96.0.1/32 scope global kube-ipvs0
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINK = re.compile(r"^\s*\d+:\s+(\S+?)(?:@\S+)?:\s+<")  # "9: kube-ipvs0: <BROADCAST,NOARP> …"
_INET = re.compile(r"^\s+inet6?\s+([0-9A-Fa-f.:]+)/\d+\s")


@dataclass(frozen=True, slots=True)
class Bound:
    """An address ``ip addr`` lists on kube-ipvs0, with where the input shows it."""

    address: str
    source: str
    line_no: int


def kube_ipvs0(text: str, source: str) -> list[Bound]:
    """Every address ``ip addr`` output in ``text`` lists under kube-ipvs0 (none: no such interface block)."""
    out: list[Bound] = []
    inside = False
    for n, line in enumerate(text.splitlines(), 1):
        link = _LINK.match(line)
        if link is not None:
            inside = link.group(1) == "kube-ipvs0"
            continue
        if inside:
            m = _INET.match(line)
            if m is not None:
                out.append(Bound(m.group(1), source, n))
            elif line.strip() and not line.startswith((" ", "\t")) and line.strip() not in ("...", "…"):
                inside = False  # (the next command's prompt, or the author's words: the block ended)
    return out


def only_ip_addr(text: str) -> bool:
    """The text is `ip addr` output (a prompt or the command above it at most) that lists kube-ipvs0."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not any(_LINK.match(ln) and "kube-ipvs0" in ln for ln in lines):
        return False
    body = lines[1:] if not _LINK.match(lines[0]) else lines
    return all(_LINK.match(ln) or ln.startswith((" ", "\t")) or ln.strip() in ("...", "…") for ln in body)

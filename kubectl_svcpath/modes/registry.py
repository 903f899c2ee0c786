"""The one table of proxy modes and input forms. A new mode is a package with a ``MODE`` and
one line in ``MODES``; nothing else compares mode names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_svcpath.errors import Unsupported
from kubectl_svcpath.modes import ipvs, iptables, nftables
from kubectl_svcpath.modes.base import InputForm, Mode, Parsed, ProxyMode

if TYPE_CHECKING:
    from kubectl_svcpath.dump import RuleDump

# Detection order: the first mode whose rules the input shows wins (an nftables listing can sit
# beside iptables rules; IPVS mode writes iptables rules too, so it goes before iptables).
MODES: tuple[ProxyMode, ...] = (nftables.MODE, ipvs.MODE, iptables.MODE)
MODE_NAMES: tuple[str, ...] = tuple(m.name.value for m in (iptables.MODE, nftables.MODE, ipvs.MODE))


def _looks_like_conntrack(head: str) -> bool:
    if "src=" not in head:  # (every flow line has one)
        return False
    from kubectl_svcpath.parse.conntrack import looks_like_conntrack

    return looks_like_conntrack(head)


def _read_conntrack(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    from kubectl_svcpath.parse.conntrack import parse_conntrack
    from kubectl_svcpath.report import SourceInfo

    parsed.conntrack = parse_conntrack(dump.text, dump.source)
    parsed.sources.append(SourceInfo(dump.source, "conntrack", dump.kind, None, True))


# a conntrack listing belongs to no mode: it counts connections where the rules have no counters
CONNTRACK = InputForm("conntrack", _looks_like_conntrack, _read_conntrack)

# Format detection order, most specific first: iptables-save's loose "-A" line forms go last.
FORMS: tuple[InputForm, ...] = (*nftables.MODE.forms, *ipvs.MODE.forms, CONNTRACK, *iptables.MODE.forms)


def mode(name: str | Mode) -> ProxyMode:
    """The ProxyMode called ``name``; Unsupported for any other name."""
    for m in MODES:
        if m.name == name:
            return m
    raise Unsupported(f'kube-proxy proxy mode "{name}" is not supported; supported: {", ".join(MODE_NAMES)}',
                      hint="pass the rules yourself with --rules-file if the mode writes iptables or nftables rules")


def form(name: str) -> InputForm:
    for f in FORMS:
        if f.name == name:
            return f
    raise KeyError(name)  # detect_format only returns known forms


read_structured = iptables.read_rulesets  # python-iptables' rules (--local on a legacy backend)

"""IPVS mode: ``ipvsadm -Ln [--stats]`` parsing, correlation of virtual and real servers (with
the iptables rules kube-proxy also writes in this mode), dump-only inference, checks.
``MODE`` describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_svcpath.errors import Unsupported
from kubectl_svcpath.modes.base import InputForm, Mode, Parsed, ProxyMode, unknown_from_excerpt

if TYPE_CHECKING:
    from collections.abc import Iterator

    from kubectl_svcpath.analysis import Analysis
    from kubectl_svcpath.dump import RuleDump
    from kubectl_svcpath.modes.ipvs.model import IpvsTable
    from kubectl_svcpath.path import Finding, PortPath
    from kubectl_svcpath.snapshot import ServiceSnapshot
    from kubectl_svcpath.trace.model import Node, Packet, Trace


def _looks_like(head: str) -> bool:
    from kubectl_svcpath.modes.ipvs.detect import looks_like_ipvsadm

    return looks_like_ipvsadm(head)


def _read(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    from kubectl_svcpath.modes.ipvs.parse import parse_ipvsadm
    from kubectl_svcpath.report import SourceInfo

    table = parse_ipvsadm(dump.text, dump.source, lenient)
    if dump.elisions:  # (the author cut it: "..." lines): what it does not show may exist
        for info in table.dumps:
            info.excerpt = True
        if table.ipsets is not None:  # (an `ipset list` pasted with it: a set a cut is in is not whole)
            from kubectl_svcpath.modes.ipvs.ipset import uncut

            uncut(table.ipsets, dump.elisions)
    if parsed.ipvs is None:
        parsed.ipvs = table
    else:
        parsed.ipvs.merge(table)  # -Ln and --stats given as two files
    parsed.sources.append(SourceInfo(dump.source, "ipvsadm", dump.kind, None, table.has_stats))


def _looks_like_ipset(head: str) -> bool:
    if "Name:" not in head:  # (its "Name: SET" line: without it the reader's module is not loaded, ~5 ms)
        return False
    from kubectl_svcpath.modes.ipvs.ipset import looks_like_ipset

    return looks_like_ipset(head)


def _ipset_as_printed(text: str) -> object | None:
    from kubectl_svcpath.modes.ipvs.ipset import AS_PRINTED, as_printed

    return AS_PRINTED if as_printed(text) else None


def _read_ipset(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    """An `ipset list` given in its own file beside the ipvsadm listing (kube-proxy's sets: which way in)."""
    from kubectl_svcpath.errors import BadDump
    from kubectl_svcpath.modes.ipvs.ipset import parse_ipsets
    from kubectl_svcpath.modes.ipvs.model import IpvsDumpInfo, IpvsTable
    from kubectl_svcpath.report import SourceInfo

    sets, _ = parse_ipsets(dump.text, dump.source, to_the_end=dump.kind in ("pod", "local"), cuts=dump.elisions)
    if not sets.names:
        raise BadDump(dump.source, "no ipset in the input", hint="pass the output of `ipset list`")
    table = IpvsTable(dumps=[IpvsDumpInfo(source=dump.source, forms=["ipset"])], ipsets=sets)
    if parsed.ipvs is None:
        parsed.ipvs = table
    else:
        parsed.ipvs.merge(table)
    parsed.sources.append(SourceInfo(dump.source, "ipset", dump.kind, None, False))


def _split(text: str, source: str) -> list[tuple[str, str]]:
    from kubectl_svcpath.modes.ipvs.parse import split_nodes

    return split_nodes(text, source)


def _ipvs(parsed: Parsed) -> IpvsTable:
    if parsed.ipvs is None:
        raise Unsupported("IPVS mode, but the input holds no ipvsadm listing",
                          hint="pass `ipvsadm -Ln --stats --exact` output with --rules-file, or drop --proxy-mode")
    return parsed.ipvs


def _correlate(snapshot: ServiceSnapshot, parsed: Parsed) -> list[PortPath]:
    from kubectl_svcpath.modes.ipvs.correlate import correlate_ipvs

    return correlate_ipvs(snapshot, _ipvs(parsed), parsed.rules, parsed.excerpt)


def _infer(parsed: Parsed, only: tuple[str | None, str] | None) -> list[ServiceSnapshot]:
    from kubectl_svcpath.modes.ipvs.correlate import infer_services_ipvs

    return unknown_from_excerpt(parsed, infer_services_ipvs(_ipvs(parsed), parsed.rules))


def _each(parsed: Parsed) -> Iterator[ServiceSnapshot]:
    from kubectl_svcpath.modes.ipvs.correlate import each_service_ipvs

    for snapshot in each_service_ipvs(_ipvs(parsed)):
        yield from unknown_from_excerpt(parsed, [snapshot])


def _notes(parsed: Parsed, snapshot: ServiceSnapshot | None, paths: list[PortPath]) -> list[str]:
    from kubectl_svcpath.modes.ipvs.checks import notes_ipvs

    return notes_ipvs(_ipvs(parsed), parsed.rules, snapshot, paths)


def _checks(a: Analysis) -> list[Finding]:
    from kubectl_svcpath.modes.ipvs.checks import check_ipvs

    return check_ipvs(a.snapshot, a.paths, a.ipvs, a.rules) if a.ipvs is not None else []


def _trace(parsed: Parsed, packet: Packet, node: Node, snapshot: ServiceSnapshot | None) -> Trace:
    from kubectl_svcpath.modes.ipvs.trace import trace_ipvs

    return trace_ipvs(_ipvs(parsed), parsed.rules, packet, node, snapshot)


MODE = ProxyMode(
    name=Mode.IPVS,
    forms=(InputForm("ipvsadm", _looks_like, _read, split=_split), InputForm("ipset", _looks_like_ipset, _read_ipset,
                                                                                  own_output=_ipset_as_printed)),
    shown_by=lambda parsed: parsed.ipvs is not None,
    correlate=_correlate,
    infer=_infer,
    infer_each=_each,
    has_counters=lambda parsed: parsed.ipvs is not None and bool(parsed.ipvs.has_stats),
    notes=_notes,
    checks=_checks,
    trace=_trace,
    # (an excerpt proves no absence; a whole listing of no virtual server does)
    holds_no_service=lambda parsed: parsed.ipvs is not None and not parsed.ipvs.virtual_servers and not parsed.ipvs.excerpt,
)

"""nftables mode: ``nft -j`` / ``nft list`` parsing, correlation through kube-proxy's service
maps, dump-only inference from chain names, checks. ``MODE`` describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_svcpath.errors import BadDump, Unsupported
from kubectl_svcpath.modes.base import InputForm, Mode, Parsed, ProxyMode, unknown_from_excerpt

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kubectl_svcpath.analysis import Analysis
    from kubectl_svcpath.dump import RuleDump
    from kubectl_svcpath.modes.nftables.model import NftRuleset
    from kubectl_svcpath.path import Finding, PortPath
    from kubectl_svcpath.snapshot import ServiceSnapshot
    from kubectl_svcpath.trace.model import Node, Packet, Trace


def _looks_like_json(head: str) -> bool:
    from kubectl_svcpath.modes.nftables.parse_json import looks_like_nft_json

    return looks_like_nft_json(head)


def _looks_like_text(head: str) -> bool:
    from kubectl_svcpath.modes.nftables.detect import looks_like_nft_text

    return looks_like_nft_text(head)


def _looks_like_chains(head: str) -> bool:
    if "{" not in head and " : " not in head:  # (a chain or set block opens with "{", a map element has " : ")
        return False
    from kubectl_svcpath.modes.nftables.chain_blocks import looks_like_chain_blocks

    return looks_like_chain_blocks(head)


def _read_chains(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    """Chain blocks cut out of an nft listing: read inside the table they most likely came from."""
    from kubectl_svcpath.modes.nftables.chain_blocks import wrap_chain_blocks
    from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text

    from dataclasses import replace

    wrapped = wrap_chain_blocks(dump.text)

    def parse(text: str, source: str) -> NftRuleset:
        nft = parse_nft_text(text, source)
        for info in nft.dumps:
            info.form = "nft-chains"
            info.notices.extend(wrapped.notices)
            info.excerpt = info.excerpt or bool(wrapped.cut)  # (a block grep cut: no chain of it is known whole)
        return nft

    _add(parsed, replace(dump, text=wrapped.text), "nft-chains", parse)


def _read_json(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json

    try:
        _add(parsed, dump, "nft-json", parse_nft_json)
        return
    except BadDump as e:
        from kubectl_svcpath.modes.nftables.json_documents import documents

        docs = documents(dump.text)  # (several documents, or one under its command's line: not one JSON text)
        if docs is None or (len(docs) == 1 and docs[0][1] == dump.text.strip()):
            raise
        e.__traceback__ = None
    _read_documents(parsed, dump, docs)


def _read_documents(parsed: Parsed, dump: RuleDump, docs: list[tuple[int, str]]) -> None:
    """Several `nft -j` documents in one paste (each table read, the notes saying which), or one under a prompt line."""
    from dataclasses import replace

    from kubectl_svcpath.modes.nftables.json_documents import read_documents
    from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json

    nft, notes, sources = read_documents(docs, dump.source, parse_nft_json)
    parsed.left_out.extend(notes)
    _add(parsed, replace(dump, text=""), "nft-json", lambda _text, _source: nft)
    parsed.sources[-1:] = [replace(parsed.sources[-1], source=s) for s in sources]


def _read_text(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    from dataclasses import replace

    from kubectl_svcpath.modes.nftables.chain_blocks import close_open_blocks
    from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text

    if dump.elisions:  # the author cut the listing: the blocks left open end where the paste ends
        dump = replace(dump, text=close_open_blocks(dump.text))
    try:
        _add(parsed, dump, "nft-text", parse_nft_text, placing=True)
        return
    except BadDump as e:
        from kubectl_svcpath.modes.nftables.chain_blocks import has_loose_lines

        if not has_loose_lines(dump.text):
            raise
        e.__traceback__ = None  # (its frames hold the first reading's tokens: let them go before the second)
    _read_chains(parsed, dump, lenient)  # a listing with `nft list tables` or grepped map elements beside it


def _add(parsed: Parsed, dump: RuleDump, fmt: str, parse: Callable[[str, str], NftRuleset], placing: bool = False) -> None:
    """``placing``: the cuts in an `nft list` text are placed in the blocks they fall in (modes/nftables/cuts.py)."""
    from kubectl_svcpath.report import SourceInfo

    nft = parse(dump.text, dump.source)
    if dump.elisions and placing:
        from kubectl_svcpath.modes.nftables.cuts import cut_places, place_cuts

        if place_cuts(nft, cut_places(dump.text, dump.elisions)):
            parsed.placed_cuts.add(dump.source)
    if dump.elisions and dump.source not in parsed.placed_cuts:
        for info in nft.dumps:
            info.excerpt = True
    if parsed.nft is None:
        parsed.nft = nft
    else:
        parsed.nft.merge(nft)
    parsed.sources.append(SourceInfo(dump.source, fmt, dump.kind, None, nft.has_counters))


def _nft(parsed: Parsed) -> NftRuleset:
    if parsed.nft is None:
        raise Unsupported("nftables mode, but the input holds no nftables rules",
                          hint="pass `nft -j list table ip kube-proxy` output with --rules-file, or drop --proxy-mode")
    return parsed.nft


def _not_shown(parsed: Parsed) -> None:
    if parsed.nft is not None:
        raise BadDump(parsed.sources[0].source if parsed.sources else "input",
                      "nftables listing without kube-proxy's table (table ip kube-proxy) or iptables rules to follow",
                      hint="for iptables mode pass iptables-save output too; for nftables mode: nft -j list table ip kube-proxy")


def _correlate(snapshot: ServiceSnapshot, parsed: Parsed) -> list[PortPath]:
    from kubectl_svcpath.modes.nftables.correlate import add_conntrack_counts, correlate_nftables

    paths = correlate_nftables(snapshot, _nft(parsed))
    if parsed.conntrack is not None:
        add_conntrack_counts(paths, parsed.conntrack)  # kube-proxy's nft rules carry no counters
    return paths


def _infer(parsed: Parsed, only: tuple[str | None, str] | None) -> list[ServiceSnapshot]:
    from kubectl_svcpath.modes.nftables.correlate import infer_services_nftables

    return _unknown_where_cut(parsed, infer_services_nftables(_nft(parsed), only))


def _unknown_where_cut(parsed: Parsed, found: list[ServiceSnapshot]) -> list[ServiceSnapshot]:
    """unknown_from_excerpt; with cuts placed in chains or between blocks, the Services they touch have their
    policies and affinity (read off their chains) not in the input; their type stays (the maps are whole)."""
    if parsed.excerpt or not parsed.placed_cuts:
        return unknown_from_excerpt(parsed, found)
    from dataclasses import replace

    return [replace(s, external_traffic_policy=None if s.external_traffic_policy == "Cluster" else s.external_traffic_policy,
                    internal_traffic_policy=None if s.internal_traffic_policy == "Cluster" else s.internal_traffic_policy,
                    session_affinity=None if s.session_affinity == "None" else s.session_affinity)
            if not s.from_api and _cut_touches(parsed, s) else s for s in found]


def _cut_touches(parsed: Parsed, snapshot: ServiceSnapshot) -> bool:
    from kubectl_svcpath.modes.nftables.cuts import touches

    return parsed.nft is not None and touches(parsed.nft, snapshot)


def _names(parsed: Parsed) -> list[str]:
    from kubectl_svcpath.modes.nftables.correlate import service_names_nftables

    return service_names_nftables(_nft(parsed))


def _each(parsed: Parsed) -> Iterator[ServiceSnapshot]:
    from kubectl_svcpath.modes.nftables.correlate import each_service_nftables

    nft = _nft(parsed)
    for snapshot in each_service_nftables(nft):
        yield from _unknown_where_cut(parsed, [snapshot])
        for table in nft.tables.values():  # that Service's report is done: its chains need not stay
            table.release()


def _audit_lines(parsed: Parsed, one: Callable[[ServiceSnapshot], tuple[Any, Any]], keep: Callable[[str], bool]) -> Iterator[Any] | None:
    from kubectl_svcpath.modes.nftables.audit import fast_audit

    if parsed.excerpt or parsed.placed_cuts or parsed.conntrack is not None or parsed.rules is not None or parsed.ipvs is not None:
        return None  # what is not in the input, conntrack's counts, other tables: each Service analysed in full
    return fast_audit(parsed.nft, one, keep)


def _notes(parsed: Parsed, snapshot: ServiceSnapshot | None, paths: list[PortPath]) -> list[str]:
    from kubectl_svcpath.modes.nftables.checks import notes_nftables

    return notes_nftables(_nft(parsed), parsed.conntrack, snapshot)


def _checks(a: Analysis) -> list[Finding]:
    from kubectl_svcpath.modes.nftables.checks import check_nftables

    return check_nftables(a.snapshot, a.paths, a.nft[0]) if a.nft else []


def _trace(parsed: Parsed, packet: Packet, node: Node, snapshot: ServiceSnapshot | None) -> Trace:
    from kubectl_svcpath.modes.nftables.trace import trace_nftables

    return trace_nftables(_nft(parsed), packet, node)


MODE = ProxyMode(
    name=Mode.NFTABLES,
    forms=(InputForm("nft-json", _looks_like_json, _read_json, json=True),
           InputForm("nft-text", _looks_like_text, _read_text),
           InputForm("nft-chains", _looks_like_chains, _read_chains)),
    shown_by=lambda parsed: parsed.nft is not None and bool(parsed.nft.kube_proxy_tables()),
    correlate=_correlate,
    infer=_infer,
    infer_each=_each,
    service_names=_names,
    audit_lines=_audit_lines,
    has_counters=lambda parsed: parsed.conntrack is not None,
    notes=_notes,
    checks=_checks,
    trace=_trace,
    not_shown=_not_shown,
    cut_touches=_cut_touches,
)

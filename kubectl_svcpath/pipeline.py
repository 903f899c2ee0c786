"""parse -> correlate -> diagnose, for one Service or all of them. Pure: golden tests start here.

Offline files, the local node and a live cluster differ only in how the Collection was
gathered; everything from here on is the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubectl_svcpath.analysis import Analysis
from kubectl_svcpath.findings import expected as expected_findings
from kubectl_svcpath.findings.generic import diagnose
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.errors import BadDump, SvcpathError, Unsupported
from kubectl_svcpath.parse import dump_format
from kubectl_svcpath.path import PortPath
from kubectl_svcpath.report import Report, RulesNotRead, SourceInfo
from kubectl_svcpath.modes.iptables.model import RuleSet
from kubectl_svcpath.snapshot import ServiceSnapshot

MODES = ("iptables", "nftables", "ipvs")


@dataclass(slots=True)
class Parsed:
    """Every dump of a Collection, parsed once (an --all audit reuses it per Service)."""

    rules: RuleSet | None = None
    nft: Any = None  # nftrules.NftRuleset
    ipvs: Any = None  # ipvsmodel.IpvsTable
    conntrack: Any = None  # parse.conntrack result, when a conntrack listing was given
    sources: list[SourceInfo] = field(default_factory=list)
    mode: str = "iptables"


def parse_collection(collection: Collection, lenient: bool = False) -> Parsed:
    parsed = Parsed()
    for rs in collection.rulesets:  # read structurally (python-iptables)
        _add_rules(parsed, rs)
        for info in rs.dumps:
            parsed.sources.append(SourceInfo(info.source, info.form, "local", info.reader, info.has_counters))
    for dump in collection.dumps:
        fmt = dump_format(dump)
        if fmt in ("iptables-save", "iptables-list"):
            # iptables-nft-save exits 3 after "Parsing nftables rule failed" and leaves the table
            # without COMMIT: read what it printed, and let the skew check explain the failure
            failed_read = dump.returncode not in (0, None)
            if fmt == "iptables-save":
                from kubectl_svcpath.modes.iptables.parse_save import parse_iptables_save

                # a pasted file is checked whole; a tool's output on a node is read as needed
                check_all = None if dump.kind in ("file", "example") else False
                try:
                    rs = parse_iptables_save(dump.text, dump.source, lenient or failed_read, check_all)
                except BadDump as e:
                    if dump.kind in ("pod", "local") and e.reason == "no iptables rules found":
                        raise BadDump(dump.source, e.reason,
                                      hint="kube-proxy may not be in iptables mode (try --proxy-mode nftables|ipvs), or its rules "
                                           "are in the other iptables backend (iptables-legacy vs iptables-nft)") from None
                    raise
            else:
                from kubectl_svcpath.modes.iptables.parse_list import parse_iptables_list

                rs = parse_iptables_list(dump.text, dump.source, lenient)
            _add_rules(parsed, rs)
            info = rs.dumps[0]
            reader = f"{info.reader} v{info.reader_version}" if info.reader else None
            parsed.sources.append(SourceInfo(dump.source, info.form, dump.kind, reader, info.has_counters))
        elif fmt in ("nft-json", "nft-text"):
            if fmt == "nft-json":
                from kubectl_svcpath.modes.nftables.parse_json import parse_nft_json as parse_nft
            else:
                from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text as parse_nft
            nft = parse_nft(dump.text, dump.source)
            if parsed.nft is None:
                parsed.nft = nft
            else:
                parsed.nft.merge(nft)
            parsed.sources.append(SourceInfo(dump.source, fmt, dump.kind, None, nft.has_counters))
        elif fmt == "ipvsadm":
            from kubectl_svcpath.modes.ipvs.parse import parse_ipvsadm

            table = parse_ipvsadm(dump.text, dump.source)
            if parsed.ipvs is None:
                parsed.ipvs = table
            else:
                parsed.ipvs.merge(table)  # -Ln and --stats given as two files
            parsed.sources.append(SourceInfo(dump.source, fmt, dump.kind, None, table.has_stats))
        elif fmt == "conntrack":
            from kubectl_svcpath.parse.conntrack import parse_conntrack

            parsed.conntrack = parse_conntrack(dump.text, dump.source)
            parsed.sources.append(SourceInfo(dump.source, fmt, dump.kind, None, True))
        else:  # pragma: no cover - detect_format only returns known formats
            raise BadDump(dump.source, f"unknown format {fmt}")
    parsed.mode = detect_mode(parsed, collection)
    return parsed


def _add_rules(parsed: Parsed, rs: RuleSet) -> None:
    if parsed.rules is None:
        parsed.rules = rs
    else:
        parsed.rules.merge(rs)


def detect_mode(parsed: Parsed, collection: Collection) -> str:
    declared = (collection.proxy_mode or "").strip().lower()
    if declared:
        if declared not in MODES:
            raise Unsupported(f'kube-proxy proxy mode "{declared}" is not supported; supported: {", ".join(MODES)}',
                              hint="pass the rules yourself with --rules-file if the mode writes iptables or nftables rules")
        return declared
    if parsed.nft is not None and parsed.nft.kube_proxy_tables():
        return "nftables"
    if parsed.ipvs is not None:
        return "ipvs"
    if parsed.rules is not None:
        if _looks_like_ipvs_rules(parsed.rules):
            raise Unsupported("these iptables rules are kube-proxy's IPVS mode (ipset KUBE-CLUSTER-IP, no KUBE-SVC chains)",
                              hint="also pass the output of `ipvsadm -Ln --stats --exact` with --rules-file")
        return "iptables"
    if parsed.nft is not None:
        raise BadDump(parsed.sources[0].source if parsed.sources else "input",
                      "nftables listing without kube-proxy's table (table ip kube-proxy) or iptables rules to follow",
                      hint="for iptables mode pass iptables-save output too; for nftables mode: nft -j list table ip kube-proxy")
    raise BadDump("input", "no rules given")


def _looks_like_ipvs_rules(rules: RuleSet) -> bool:
    nat = rules.table("nat")
    if nat is None or any(name.startswith(("KUBE-SVC-", "KUBE-SEP-")) for name in nat.chains):
        return False
    return any("KUBE-CLUSTER-IP" in " ".join(r.options.get("--match-set", [])) for r in nat.rules())


def correlate(snapshot: ServiceSnapshot, parsed: Parsed) -> list[PortPath]:
    if parsed.mode == "nftables":
        from kubectl_svcpath.modes.nftables.correlate import correlate_nftables

        return correlate_nftables(snapshot, parsed.nft)
    if parsed.mode == "ipvs":
        from kubectl_svcpath.modes.ipvs.correlate import correlate_ipvs

        return correlate_ipvs(snapshot, parsed.ipvs, parsed.rules)
    from kubectl_svcpath.modes.iptables.correlate import correlate_iptables

    return correlate_iptables(snapshot, parsed.rules or RuleSet())


def infer_services(parsed: Parsed, only: tuple[str | None, str] | None = None) -> list[ServiceSnapshot]:
    """Dump-only mode: the Services the rules themselves describe (or just ``only=(ns, name)``)."""
    if parsed.mode == "nftables":
        from kubectl_svcpath.modes.nftables.correlate import infer_services_nftables

        return infer_services_nftables(parsed.nft, only)
    if parsed.mode == "ipvs":
        from kubectl_svcpath.modes.ipvs.correlate import infer_services_ipvs

        return infer_services_ipvs(parsed.ipvs, parsed.rules)
    from kubectl_svcpath.modes.iptables.infer import infer_services_iptables

    return infer_services_iptables(parsed.rules or RuleSet(), only)


def api_only(snapshot: ServiceSnapshot, node: str | None, error: SvcpathError) -> Report:
    """What the API shows when the node's rules could not be read: ports, addresses, EndpointSlices."""
    return Report(service=snapshot, mode="", ports=[PortPath(port=p) for p in snapshot.ports], node=node,
                  rules_not_read=RulesNotRead(error.message, error.hint, int(error.exit_code)))


def analyse(snapshot: ServiceSnapshot, parsed: Parsed, collection: Collection) -> Report:
    paths = correlate(snapshot, parsed)
    if parsed.mode == "nftables" and parsed.conntrack is not None:
        from kubectl_svcpath.modes.nftables.correlate import add_conntrack_counts

        add_conntrack_counts(paths, parsed.conntrack)  # kube-proxy's nft rules carry no counters
    # expected before observed: what kube-proxy should program on this node, set against the rules
    exps, node_notes = expected_findings.build(snapshot, collection, paths)
    expected_findings.apply(snapshot, paths, exps, parsed.mode)
    analysis = Analysis(snapshot=snapshot, collection=collection, mode=parsed.mode, paths=paths, rules=parsed.rules,
                        nft=[parsed.nft] if parsed.nft is not None else [], ipvs=parsed.ipvs, expectations=exps)
    findings = diagnose(analysis)
    return Report(
        service=snapshot, mode=parsed.mode, ports=paths, findings=findings, node=collection.node, pod=collection.pod,
        backend=collection.backend or _backend(parsed), sources=list(parsed.sources),
        counters=_has_counters(parsed),
        notes=input_notes(parsed, collection, snapshot) + node_notes + expected_findings.notes(analysis),
        expected=expected_findings.summary(analysis),
    )


def _backend(parsed: Parsed) -> str | None:
    if parsed.rules is not None:
        for info in parsed.rules.dumps:
            if info.backend:
                return info.backend
    return None


def _has_counters(parsed: Parsed) -> bool:
    if parsed.mode == "iptables":
        return parsed.rules is not None and parsed.rules.has_counters
    if parsed.mode == "ipvs":
        return parsed.ipvs is not None and bool(parsed.ipvs.has_stats)
    return parsed.conntrack is not None


def input_notes(parsed: Parsed, collection: Collection, snapshot: ServiceSnapshot | None = None) -> list[str]:
    """What the input lacked, and what that costs the answer."""
    notes: list[str] = list(collection.notes)
    if parsed.mode == "nftables":
        from kubectl_svcpath.modes.nftables.checks import notes_nftables

        notes.extend(notes_nftables(parsed.nft, parsed.conntrack, snapshot))
    elif parsed.mode == "ipvs":
        from kubectl_svcpath.modes.ipvs.checks import notes_ipvs

        notes.extend(notes_ipvs(parsed.ipvs, parsed.rules))
    rules = parsed.rules
    if parsed.mode == "iptables" and rules is not None:
        forms = {d.form for d in rules.dumps}
        if not rules.has_counters:
            notes.append("no packet counters in the input: hops show no traffic (use iptables-save -c, or -L -v -x)")
        if "rules-only" in forms:
            notes.append("no table headers (bare -A lines): tables were guessed from chain and target names")
        if "iptables-list" in forms:
            notes.append("iptables -L listing: table assumed to be nat; counters as printed (-x for exact numbers)")
        if rules.table("filter") is None:
            notes.append("no filter table: REJECT for services without endpoints and Local-policy DROPs cannot be seen (dump all tables: iptables-save -c)")
        if rules.table("nat") is None:
            notes.append("no nat table: no service path can be followed (dump it: iptables-save -c -t nat)")
        for info in rules.dumps:
            notes.extend(f"{info.source}: skipped {s}" for s in info.skipped[:20])
    return notes

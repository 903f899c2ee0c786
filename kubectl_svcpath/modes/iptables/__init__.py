"""iptables mode (legacy and nft backends): iptables-save / iptables -L parsing, correlation by
kube-proxy's chain names, dump-only inference, version-skew checks. ``MODE`` describes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubectl_svcpath.errors import BadDump, Unsupported
from kubectl_svcpath.modes.base import InputForm, Mode, Parsed, ProxyMode
from kubectl_svcpath.wording import agrees, counted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from kubectl_svcpath.analysis import Analysis
    from kubectl_svcpath.dump import RuleDump
    from kubectl_svcpath.modes.iptables.model import RuleSet
    from kubectl_svcpath.path import Finding, PortPath
    from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot
    from kubectl_svcpath.trace.model import Node, Packet, Trace


def _add_rules(parsed: Parsed, rs: RuleSet) -> bool:
    """``rs`` joined to the rules read so far; False (set aside, with a note) when it is the other address family's."""
    if parsed.rules is None:
        parsed.rules = rs
        return True
    mine, theirs = _family(parsed.rules), _family(rs)
    if mine and theirs and mine != theirs:
        # kube-proxy's IPv4 and IPv6 proxiers write the same chain names (KUBE-SVC-<hash of the port's name>), each
        # with its family's endpoints: merged, the first file's chains were kept and the other's silently dropped
        parsed.left_out.append(
            f"{', '.join(d.source for d in rs.dumps)}: the {theirs} family's rules, not read with the {mine} rules "
            f"of {', '.join(dict.fromkeys(d.source for d in parsed.rules.dumps))}: kube-proxy writes the same chain "
            f"names in both families, each with its own endpoints; for the {theirs} paths pass that file alone")
        return False
    parsed.rules.merge(rs)
    return True


def _family(rs: RuleSet) -> str | None:
    """IPv4 or IPv6: what ip6tables-save's header, or the first addresses of kube-proxy's rules, say (None: neither)."""
    for info in rs.dumps:
        if info.reader:
            return "IPv6" if info.reader.startswith("ip6tables") else "IPv4"
    for chain in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
        for rule in rs.rules_of("nat", chain)[:50]:
            for addr in (rule.dest_addr, rule.to_destination):
                if addr and addr.strip("!") not in ("0.0.0.0/0", "::/0"):
                    return "IPv6" if ":" in addr.split("/")[0].strip("[!") else "IPv4"
    return None


def read_rulesets(parsed: Parsed, rulesets: Iterable[RuleSet]) -> None:
    """Rules read structurally on this node (python-iptables): nothing to parse."""
    from kubectl_svcpath.report import SourceInfo

    for rs in rulesets:
        _add_rules(parsed, rs)
        for info in rs.dumps:
            parsed.sources.append(SourceInfo(info.source, info.form, "local", info.reader, info.has_counters))


def _looks_like_save(head: str) -> bool:
    from kubectl_svcpath.modes.iptables.detect import looks_like_iptables_save

    return looks_like_iptables_save(head)


def _looks_like_list(head: str) -> bool:
    from kubectl_svcpath.modes.iptables.detect import looks_like_iptables_list

    return looks_like_iptables_list(head)


def _read_save(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    from kubectl_svcpath.modes.iptables.parse_save import parse_iptables_save

    # iptables-nft-save exits 3 after "Parsing nftables rule failed" and leaves the table
    # without COMMIT: read what it printed, and let the skew check explain the failure
    failed_read = dump.returncode not in (0, None)
    # a pasted file is checked whole; a tool's output on a node is read as needed
    check_all = None if dump.kind in ("file", "example") else False
    try:
        rs = parse_iptables_save(dump.text, dump.source, lenient or failed_read, check_all, list(dump.elisions), dump.feed)
    except BadDump as e:
        if dump.kind in ("pod", "local") and e.reason == "no iptables rules found":
            raise BadDump(dump.source, e.reason,
                          hint="kube-proxy may not be in iptables mode (try --proxy-mode nftables|ipvs), or its rules "
                               "are in the other iptables backend (iptables-legacy vs iptables-nft)") from None
        raise
    _add_dump(parsed, dump, rs)


def _own_output(text: str) -> Any:
    from kubectl_svcpath.modes.iptables.parse_save import plain_scan_of

    scanned = plain_scan_of(text)
    if scanned is not None and len({s.name for s in scanned.sections}) < len(scanned.sections):
        return None  # the same table twice: two saves pasted one after another (parse/excerpt reads the later)
    return scanned


def _read_list(parsed: Parsed, dump: RuleDump, lenient: bool) -> None:
    from kubectl_svcpath.modes.iptables.parse_list import parse_iptables_list

    _add_dump(parsed, dump, parse_iptables_list(dump.text, dump.source, lenient, elisions=list(dump.elisions)))


def _add_dump(parsed: Parsed, dump: RuleDump, rs: RuleSet) -> None:
    from kubectl_svcpath.parse.grep_words import grep_selection
    from kubectl_svcpath.report import SourceInfo

    if not _add_rules(parsed, rs):
        return
    info = rs.dumps[0]
    info.selection = grep_selection(dump.listings)
    reader = f"{info.reader} v{info.reader_version}" if info.reader else None
    parsed.sources.append(SourceInfo(dump.source, info.form, dump.kind, reader, info.has_counters))


def _shown_by(parsed: Parsed) -> bool:
    if parsed.rules is None and parsed.nft is not None:
        _rules_from_nft(parsed)
    if parsed.rules is None:
        return False
    if _looks_like_userspace_rules(parsed.rules):
        raise Unsupported("these iptables rules are kube-proxy's userspace mode (KUBE-PORTALS-CONTAINER/HOST redirect "
                          "Service traffic to kube-proxy itself, which picks the endpoint): userspace mode was removed "
                          "in Kubernetes 1.26 and is not analysed")
    ipsets = _ipvs_sets(parsed.rules)
    if ipsets:
        local = any(s.kind == "local" for s in parsed.sources)  # (--local reads /proc/net/ip_vs when it holds any)
        left = _left_over(parsed.rules)
        chains = (f"its {counted(left, 'KUBE-SVC chain')} left over from iptables mode: no rule jumps to "
                  f"{agrees(left, 'it', 'them')}") if left else "no KUBE-SVC chains"
        sets = f"ipset {ipsets[0]}" if ipsets == [UNNAMED_SETS] else f"ipset {', '.join(ipsets[:3])}"
        raise Unsupported(f"these iptables rules are kube-proxy's IPVS mode ({sets}, {chains})"
                          + (", and this machine's kernel holds no IPVS virtual server (/proc/net/ip_vs)" if local else ""),
                          hint="is kube-proxy's IPVS mode working here? Its log says why it is not (kubectl logs -n "
                               "kube-system KUBE-PROXY-POD)" if local else
                               "also pass the output of `ipvsadm -Ln --stats --exact` with --rules-file")
    return True


def _rules_from_nft(parsed: Parsed) -> None:
    """No iptables listing, but nft's listing of the tables iptables-nft wrote: read those as the rules."""
    from kubectl_svcpath.modes.iptables.parse_nft import rules_from_nft

    assert parsed.nft is not None
    parsed.rules = rules_from_nft(parsed.nft)


_USERSPACE_CHAINS = ("KUBE-PORTALS-CONTAINER", "KUBE-PORTALS-HOST", "KUBE-NODEPORT-CONTAINER", "KUBE-NODEPORT-HOST")


def _looks_like_userspace_rules(rules: RuleSet) -> bool:
    """Userspace mode's portals and no chain of the iptables proxier: nothing here says where a packet ends."""
    nat = rules.table("nat")
    if nat is None or any(name.startswith(("KUBE-SVC-", "KUBE-SEP-")) for name in nat.chains):
        return False
    return any(name in nat.chains for name in _USERSPACE_CHAINS)


# the ipsets only kube-proxy's IPVS mode matches on (pkg/proxy/ipvs/ipset.go); IPv6 ones carry "KUBE-6-"
_IPVS_SETS = ("KUBE-CLUSTER-IP", "KUBE-LOOP-BACK", "KUBE-EXTERNAL-IP", "KUBE-LOAD-BALANCER", "KUBE-NODE-PORT-",
              "KUBE-HEALTH-CHECK-NODE-PORT")


def _ipvs_sets(rules: RuleSet) -> list[str]:
    """The IPVS-mode ipsets the nat rules match on, when the rules hold no iptables-mode service chain, or only
    chains nothing jumps to while KUBE-SERVICES matches IPVS mode's sets (left over by a switch to IPVS mode)."""
    nat = rules.table("nat")
    if nat is None:
        return []
    if any(name.startswith(("KUBE-SVC-", "KUBE-SEP-")) for name in nat.chains):
        # (IPVS mode's own chains first, then a literal in KUBE-SERVICES: an iptables-mode dump's 10^4 rules are
        # neither searched nor tokenised)
        if not _ipvs_chains(rules) \
                or not rules.rules_mentioning("nat", "KUBE-SERVICES", ("KUBE-CLUSTER-IP", "KUBE-6-CLUSTER-IP")) or _left_over(rules) == 0:
            return []
    found: list[str] = []
    unnamed = False  # a set match nft prints without its set's name (xt match "set")
    for r in nat.rules():
        for name in r.options.get("--match-set", [])[:1]:
            name = name.lstrip("!").replace("KUBE-6-", "KUBE-", 1)
            if name.startswith(_IPVS_SETS) and name not in found:
                found.append(name)
        unnamed = unnamed or ("set" in r.matches and "--match-set" not in r.options)
    if not found and unnamed and _ipvs_chains(rules) and not any(n.startswith(("KUBE-SVC-", "KUBE-SEP-")) for n in nat.chains):
        return [UNNAMED_SETS]
    return found


# IPVS mode told by its own nat chains and set matches whose sets nft does not name (nft without libxtables)
UNNAMED_SETS = 'matches nft prints as xt match "set", without the set\'s name, beside IPVS mode\'s own chain KUBE-NODE-PORT or KUBE-LOAD-BALANCER'


def _ipvs_chains(rules: RuleSet) -> bool:
    """IPVS mode's own dispatch chains are in the nat table, or KUBE-SERVICES jumps to one (a listing cut above
    their own headers still shows the jump)."""
    nat = rules.table("nat")
    if nat is None:
        return False
    from kubectl_svcpath.modes.iptables.model import LazyChains

    own = ("KUBE-NODE-PORT", "KUBE-LOAD-BALANCER")
    if any(name in nat.chains for name in own):
        return True
    # (a dump read lazily is iptables-save's, which declares every chain: only a listing can show the jump alone)
    return not isinstance(nat.chains, LazyChains) and any(r.target in own for r in rules.rules_of("nat", "KUBE-SERVICES"))


def _left_over(rules: RuleSet) -> int:
    """How many KUBE-SVC chains of the nat table no rule of KUBE-SERVICES or KUBE-NODEPORTS jumps to, when none
    jumps to any service chain (0 when one does: iptables mode at work)."""
    nat = rules.table("nat")
    if nat is None:
        return 0
    for entry in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
        if any(r.target and r.target.startswith(("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-XLB-"))
               for r in rules.rules_of("nat", entry)):
            return 0
    return sum(1 for name in nat.chains if name.startswith("KUBE-SVC-"))


def _rules(parsed: Parsed) -> RuleSet:
    from kubectl_svcpath.modes.iptables.model import RuleSet

    return parsed.rules or RuleSet()


def _correlate(snapshot: ServiceSnapshot, parsed: Parsed) -> list[PortPath]:
    from kubectl_svcpath.modes.iptables.correlate import correlate_iptables

    return correlate_iptables(snapshot, _rules(parsed))


def _infer(parsed: Parsed, only: tuple[str | None, str] | None) -> list[ServiceSnapshot]:
    from kubectl_svcpath.modes.iptables.infer import infer_services_iptables

    return infer_services_iptables(_rules(parsed), only)


def _names(parsed: Parsed) -> list[str]:
    from kubectl_svcpath.modes.iptables.infer import service_names_iptables

    return service_names_iptables(_rules(parsed))


def _each(parsed: Parsed) -> Iterator[ServiceSnapshot]:
    from kubectl_svcpath.modes.iptables.infer import each_service_iptables

    return each_service_iptables(_rules(parsed))


def _audit_lines(parsed: Parsed, one: Callable[[ServiceSnapshot], tuple[Any, Any]], keep: Callable[[str], bool]) -> Iterator[Any] | None:
    from kubectl_svcpath.modes.iptables.audit import fast_audit

    if parsed.nft is not None or parsed.ipvs is not None:
        return None  # the kernel's view (or IPVS) gives findings per rule that a template cannot carry
    return fast_audit(parsed.rules, one, parsed.excerpt, keep)


def _api_audit_lines(parsed: Parsed, one: Callable[[ServiceSnapshot], tuple[Any, Any]],
                     snapshots: Iterable[ServiceSnapshot], prepared: Any) -> Iterator[Any] | None:
    from kubectl_svcpath.modes.iptables.audit_api import api_audit

    if parsed.nft is not None or parsed.ipvs is not None:
        return None  # (as for _audit_lines)
    return api_audit(parsed.rules, one, parsed.excerpt, snapshots, prepared)


def _api_audit_prepare(snapshots: list[ServiceSnapshot]) -> Any:
    from kubectl_svcpath.modes.iptables.audit_api import prepare

    return prepare(snapshots)


def _notes(parsed: Parsed, snapshot: ServiceSnapshot | None, paths: list[PortPath]) -> list[str]:
    from kubectl_svcpath.modes.iptables.checks import notes_iptables

    if parsed.rules is None:
        return []
    # (nft's listing of the same tables, beside iptables-save without -c: read as the kernel's view only)
    return (notes_iptables(parsed.rules, snapshot, counted_beside=parsed.nft is not None and parsed.nft.has_counters,
                           paths=paths)
            + _conntrack_note(parsed, snapshot))


def _conntrack_note(parsed: Parsed, snapshot: ServiceSnapshot | None) -> list[str]:
    """A `conntrack -L` listing beside iptables mode's rules: what its flows to the Service show (the endpoints that
    answered), said as conntrack's view; the hops' counts stay the rules' own (it was read and said nothing)."""
    table = parsed.conntrack
    if table is None or snapshot is None:
        return []
    flows = [e for p in snapshot.ports if p.port is not None
             for ip in (*snapshot.cluster_ips, *snapshot.external_ips, *snapshot.load_balancer_ips)
             for e in table.to_address(p.protocol.lower(), ip, p.port)]
    answered = sorted({f"{e.reply_src}:{e.reply_sport}" for e in flows if e.dnat and e.reply_src})
    said = (f"{len(flows)} {'flow' if len(flows) == 1 else 'flows'} to the Service's addresses"
            + (f", answered by {', '.join(answered)}" if answered else "") if flows else "no flow to the Service's addresses")
    return [f"{table.source}: `conntrack -L`: {said} (the connections tracked now, conntrack's view; the hops' "
            "counts are the rules' own counters, iptables-save -c)"]


def _checks(analysis: Analysis) -> list[Finding]:
    from kubectl_svcpath.modes.iptables.checks import check_skew

    return check_skew(analysis)


def _trace(parsed: Parsed, packet: Packet, node: Node, snapshot: ServiceSnapshot | None) -> Trace:
    from kubectl_svcpath.modes.iptables.checks import Kernel, dump_reader, hides_native_matches
    from kubectl_svcpath.modes.iptables.model import Rule
    from kubectl_svcpath.modes.iptables.trace import trace_iptables

    rules = _rules(parsed)
    kernel = Kernel([parsed.nft]) if parsed.nft is not None else None
    readers = {info.source: hides_native_matches(dump_reader(info)) for info in rules.dumps}

    def hides(rule: Rule) -> bool | None:
        return readers.get(rule.source)

    trace = trace_iptables(rules, packet, node, kernel=kernel if kernel else None, hides=hides)
    if trace.kernel_view:
        trace.notes.insert(0, "the iptables listing hides some port or mark matches (iptables 1.8.7 or older reading "
                              "1.8.8+ rules): the kernel's own view (nft list table ip nat) was used for those rules")
    return trace


def _service_chain(snapshot: ServiceSnapshot, port: ServicePort) -> str:
    from kubectl_svcpath import kubeproxy
    from kubectl_svcpath.modes.iptables.correlate import spn_candidates

    return kubeproxy.service_chains(spn_candidates(snapshot, port)[0], port.protocol)["svc"]


def _holds_no_service(parsed: Parsed) -> bool:
    """A whole save without a rule in nat KUBE-SERVICES, or without a nat table (an excerpt proves nothing absent)."""
    rules = parsed.rules
    if rules is None or rules.excerpt:
        return False
    chain = rules.chain("nat", "KUBE-SERVICES")
    return chain is None or len(chain) == 0


MODE = ProxyMode(
    name=Mode.IPTABLES,
    forms=(InputForm("iptables-list", _looks_like_list, _read_list),
           InputForm("iptables-save", _looks_like_save, _read_save, own_output=_own_output)),
    shown_by=_shown_by,
    correlate=_correlate,
    infer=_infer,
    infer_each=_each,
    service_names=_names,
    audit_lines=_audit_lines,
    api_audit_lines=_api_audit_lines,
    api_audit_prepare=_api_audit_prepare,
    has_counters=lambda parsed: parsed.rules is not None and parsed.rules.has_counters,
    notes=_notes,
    checks=_checks,
    trace=_trace,
    holds_no_service=_holds_no_service,
    service_chain=_service_chain,
)

"""What a proxy mode is to the pipeline: its input forms and its steps, as one ProxyMode.

Each mode package (modes/iptables, modes/nftables, modes/ipvs) describes itself with one
ProxyMode in its ``__init__``; modes/registry.py lists them, and the pipeline looks a mode up
there instead of comparing mode names. The functions take the whole ``Parsed`` input because
a mode may read more than its own tables (IPVS mode follows kube-proxy's iptables rules too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubectl_svcpath.analysis import Analysis
    from kubectl_svcpath.dump import RuleDump
    from kubectl_svcpath.modes.iptables.model import RuleSet
    from kubectl_svcpath.modes.ipvs.model import IpvsTable
    from kubectl_svcpath.modes.nftables.model import NftRuleset
    from kubectl_svcpath.parse.describe import DescribedService
    from kubectl_svcpath.parse.ipaddr import Bound
    from kubectl_svcpath.parse.conntrack import ConntrackTable
    from kubectl_svcpath.path import Finding, PortPath
    from kubectl_svcpath.report import SourceInfo
    from kubectl_svcpath.snapshot import ServicePort, ServiceSnapshot
    from kubectl_svcpath.trace.model import Node, Packet, Trace


class Mode(str, Enum):
    """kube-proxy's proxy modes this tool reads. A str, so ``Mode.IPTABLES == "iptables"``."""

    IPTABLES = "iptables"
    NFTABLES = "nftables"
    IPVS = "ipvs"

    def __str__(self) -> str:
        return self.value


@dataclass(slots=True)
class Parsed:
    """Every dump of a Collection, parsed once (an --all audit reuses it per Service)."""

    rules: RuleSet | None = None  # iptables rules (iptables mode, or the iptables side of IPVS mode)
    nft: NftRuleset | None = None  # kube-proxy's nftables table, or iptables-nft's kernel view
    ipvs: IpvsTable | None = None
    conntrack: ConntrackTable | None = None  # a `conntrack -L` listing, when one was given
    sources: list[SourceInfo] = field(default_factory=list)
    mode: Mode = Mode.IPTABLES
    elisions: dict[str, list[int]] = field(default_factory=dict)  # source -> lines where the author cut
    # sources whose every cut a mode's reader placed in the block it falls in (nftables: a Service's chain, or
    # between blocks): they leave only the Services they touch an excerpt (ProxyMode.cut_touches), not the input
    placed_cuts: set[str] = field(default_factory=set)
    described: list[DescribedService] = field(default_factory=list)  # `kubectl describe service` output in the input
    left_out: list[str] = field(default_factory=list)  # other commands' output around the rules, left out (notes)
    other_family: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # source -> the IPv6 family's lines left out
    bound: list[Bound] = field(default_factory=list)  # addresses `ip addr` output in the input lists on kube-ipvs0
    # kube-proxy's logged restore input read, and its log saying that restore failed: the log lines ("file:line  text")
    restore_failed: list[str] = field(default_factory=list)

    @property
    def excerpt(self) -> bool:
        """The input shows part of the rules (cut, grep, bare lines): nothing may be called absent from it."""
        return (any(source not in self.placed_cuts for source in self.elisions) or (self.rules is not None and self.rules.excerpt)
                or (self.ipvs is not None and self.ipvs.excerpt) or (self.nft is not None and self.nft.shown_in_part()))

    def reader_notes(self) -> list[str]:
        """What the readers left out of the input or could not read (skipped lines, several nodes), for an audit."""
        from kubectl_svcpath.parse.describe import notes

        return notes(self.described) + self.left_out + ([n for d in self.ipvs.dumps for n in d.notices] if self.ipvs is not None else [])


def unknown_from_excerpt(parsed: Parsed, found: list[ServiceSnapshot]) -> list[ServiceSnapshot]:
    """Dump-only Services of a mode whose reader concludes from a rule it did not see (type ClusterIP:
    no node port seen; policy Cluster, affinity None: no Local or affinity rule seen). From an excerpt
    those conclusions are unknown, not defaults."""
    if not parsed.excerpt:
        return found
    from dataclasses import replace

    return [replace(s, type=None if s.type == "ClusterIP" else s.type,
                    external_traffic_policy=None if s.external_traffic_policy == "Cluster" else s.external_traffic_policy,
                    internal_traffic_policy=None if s.internal_traffic_policy == "Cluster" else s.internal_traffic_policy,
                    session_affinity=None if s.session_affinity == "None" else s.session_affinity)
            if not s.from_api else s for s in found]


@dataclass(frozen=True, slots=True)
class InputForm:
    """One kind of text a user can hand us (``RuleDump.format``), how to recognise it and read it."""

    name: str
    looks_like: Callable[[str], bool]  # sees only the first 64 KiB
    read: Callable[[Parsed, RuleDump, bool], None]  # parse (lenient or not) and add to Parsed
    json: bool = False  # a JSON document: other JSON is refused with its own message
    # (text, source) -> [(node, that node's text)] when one paste holds several nodes' tables that
    # differ (each node then gets its own report); [] when it is one node's. None: the form has no nodes
    split: Callable[[str, str], list[tuple[str, str]]] | None = None
    # text -> its reader's own structure scan when the text is its tool's output as printed (every line of
    # the tool's shapes: no cut mark or prompt can be among them), handed to the reader as RuleDump.feed;
    # None when it is not. None: the form has no such scan
    own_output: Callable[[str], Any] | None = None


@dataclass(frozen=True, slots=True)
class ProxyMode:
    """One proxy mode's parts. Functions are small adapters over the mode's own modules."""

    name: Mode
    forms: tuple[InputForm, ...]
    shown_by: Callable[[Parsed], bool]  # the input holds this mode's rules (detection order: the registry's)
    correlate: Callable[[ServiceSnapshot, Parsed], list[PortPath]]
    infer: Callable[[Parsed, tuple[str | None, str] | None], list[ServiceSnapshot]]  # dump-only Services
    has_counters: Callable[[Parsed], bool]
    # what the input lacks, what it costs (the Service's port paths: what correlation found of it)
    notes: Callable[[Parsed, ServiceSnapshot | None, list[PortPath]], list[str]]
    checks: Callable[[Analysis], list[Finding]]  # the mode's own findings (findings/ runs the generic ones)
    trace: Callable[[Parsed, Packet, Node, ServiceSnapshot | None], Trace]  # one packet through the rules (--trace)
    # the chain a port's traffic should reach, for "service-not-programmed"; None: "its service chain"
    service_chain: Callable[[ServiceSnapshot, ServicePort], str] | None = None
    # dump-only Services one at a time, each finished when reached (an --all audit of a big input
    # then holds one Service's rules at a time); None: the audit takes ``infer``'s list
    infer_each: Callable[[Parsed], Iterator[ServiceSnapshot]] | None = None
    # dump-only --all as a table in one pass: (parsed, one Service's (report, audit line), namespace
    # filter) -> the audit lines, the same as each Service's report gives; None (or it returns None): per Service
    audit_lines: Callable[[Parsed, Callable[[ServiceSnapshot], tuple[Any, Any]], Callable[[str], bool]], Iterator[Any] | None] | None = None
    # --all as a table with the Services from the API (live, --manifest): (parsed, one Service's (report, audit
    # line), the snapshots, api_audit_prepare's answer or None) -> their audit lines, the same as each one's report
    # gives; None (or it returns None): per Service
    api_audit_lines: Callable[[Parsed, Callable[[ServiceSnapshot], tuple[Any, Any]], Iterable[ServiceSnapshot], Any],
                              Iterator[Any] | None] | None = None
    # what api_audit_lines takes from the snapshots alone, made before the rules are parsed (live: while
    # the node's rules are still read); None: nothing to prepare
    api_audit_prepare: Callable[[list[ServiceSnapshot]], Any] | None = None
    # the NAMESPACE/NAME of every Service the rules name (a "not found" hint lists them), without
    # rebuilding each one as ``infer`` does (10,000 Services: 0.35 s, not 4 s); None: ``infer``'s
    service_names: Callable[[Parsed], list[str]] | None = None
    # the input holds this mode's whole table and no Service in it (kube-proxy does not run this mode there): a
    # mode kube-proxy's configuration names is then set aside for another the input shows Services in; None: never
    holds_no_service: Callable[[Parsed], bool] | None = None
    # raised when no mode matched and this mode's tables were given but are unusable (a BadDump)
    not_shown: Callable[[Parsed], None] | None = None
    # the cuts this mode's reader placed (Parsed.placed_cuts) touch the Service: it is read as from an excerpt
    cut_touches: Callable[[Parsed, ServiceSnapshot], bool] | None = None

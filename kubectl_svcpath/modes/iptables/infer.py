"""Dump-only mode: rebuild Services from kube-proxy's iptables rules when no API objects are given.

kube-proxy's comments name the service port (comments.py lists every form since ~1.10); the
chain a rule jumps to, or the rule's own chain, must hash from that name, which is checked, so a
wrong comment cannot invent a Service. A Service is found from any of its chains: the entry
rules in KUBE-SERVICES / KUBE-NODEPORTS / the filter table, and also its KUBE-SVC/SVL/EXT/FW/
XLB/SEP chains, which an excerpt may hold without the entry rule.

Every field is one of three things: seen (a rule shows it), absent (the whole table is in the
input and the rule that would show it is not), or not in the input (None). No default stands in
for an unknown: a Service whose NodePort rule was not pasted has type None, not ClusterIP.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.modes.iptables import comments
from kubectl_svcpath.modes.iptables.correlate import hidden_split
from kubectl_svcpath.modes.iptables.era import jump_tells_internal_policy
from kubectl_svcpath.modes.iptables.model import LazyChains, Rule, RuleSet, Table, bare_address, split_hostport
from kubectl_svcpath.parse.possessive import compile_possessive
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot

_PER_SERVICE = ("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-XLB-", "KUBE-SEP-")


@dataclass(slots=True)
class _Port:
    hash: str | None = None  # the chains' hash, when the name the input gives does not hash to them
    port: int | None = None
    node_port: int | None = None
    via_node_ports: bool = False  # a KUBE-NODEPORTS rule (even one printed without its --dport)
    chains: set[str] = field(default_factory=set)  # this port's chains the input shows
    own: list[str] | None = None  # the hashes its service port names give (_own_hashes: worked out once)


@dataclass(slots=True)
class _Draft:
    namespace: str
    name: str
    legacy_colon: bool = False  # comments name an unnamed port "ns/name:" (kube-proxy before 1.19)
    cluster_ips: list[str] = field(default_factory=list)
    external_ips: list[str] = field(default_factory=list)
    lb_ips: list[str] = field(default_factory=list)
    other_ips: list[str] = field(default_factory=list)  # a REJECT/DROP's address whose chain (so kind) is not in the input
    ports: dict[tuple[str, str], _Port] = field(default_factory=dict)  # (port name, PROTO) -> fields
    itp: str | None = None  # internalTrafficPolicy seen: KUBE-SERVICES jumps to KUBE-SVL (Local) or KUBE-SVC
    etp: str | None = None  # externalTrafficPolicy seen (KUBE-XLB / KUBE-EXT contents, NodePort straight to KUBE-SVC)
    dispatched: bool = False  # a KUBE-SERVICES rule of its cluster IP is in the input (not only the service chain's)
    health_check: int | None = None  # the filter table's "SPN health check node port" ACCEPT: its port

    def port(self, pname: str, proto: str) -> _Port:
        key = (pname, proto.upper())
        pf = self.ports.get(key)
        if pf is None:
            pf = self.ports[key] = _Port()
        return pf


def infer_services_iptables(rules: RuleSet, only: tuple[str | None, str] | None = None) -> list[ServiceSnapshot]:
    """Every Service the rules describe; ``only=(namespace or None, name)`` reads just that one's rules."""
    return [_finish(d, rules) for d in _drafts(rules, only)]


def service_names_iptables(rules: RuleSet) -> list[str]:
    """NAMESPACE/NAME of each Service the rules name (not rebuilt: no endpoint chain is read); one no comment
    names by its service chain, as --all lists it and as it can be asked for ("KUBE-SVC-JOQCPDX2ATLAF3TL")."""
    return [f"KUBE-SVC-{d.name[1:]}" if d.name.startswith("#") else f"{d.namespace}/{d.name}"
            for d in _drafts(rules, None) if d.name]


def each_service_iptables(rules: RuleSet) -> Iterator[ServiceSnapshot]:
    """Every Service the rules describe, each finished (its endpoint chains read) only when asked for.

    An --all audit analyses each one and forgets its chains before the next: a 10,000-Service
    table is then never held tokenised all at once.
    """
    for d in _drafts(rules, None):
        yield _finish(d, rules)


def _drafts(rules: RuleSet, only: tuple[str | None, str] | None) -> list[_Draft]:
    """The Services the entry rules and per-service chains name, in order; endpoints not read yet."""
    drafts: dict[tuple[str, str], _Draft] = {}
    nat = rules.table("nat")
    if only is None and nat is not None and isinstance(nat.chains, LazyChains):
        nat.chains.locate_all()  # every chain is read: located in one pass, before the drafts take memory
    if only is None or rules.excerpt:  # an excerpt is small, and its comments may be wrapped
        def chain_rules(table: str, chain: str) -> list[Rule]:
            return rules.rules_of(table, chain)
    else:
        ns, name = only
        key = f"{ns}/{name}" if ns else f"/{name}"

        def chain_rules(table: str, chain: str) -> list[Rule]:
            return rules.rules_mentioning(table, chain, (key,))

    def draft_for(namespace: str, name: str, legacy_colon: bool) -> _Draft:
        key = (namespace, name)
        d = drafts.get(key)
        if d is None:
            d = drafts[key] = _Draft(namespace, name)
        d.legacy_colon = d.legacy_colon or legacy_colon
        return d

    if only is None:  # kube-proxy's own dispatch lines read with one regex each, not tokenised
        try:
            _from_entry_rules(dispatch_rules(rules, "KUBE-SERVICES"), draft_for)
            _from_node_ports(dispatch_rules(rules, "KUBE-NODEPORTS"), draft_for)
        except _NotLight:  # a comment only a repair reads (_named): the tokenised rules, from the start
            drafts.clear()
            _from_entry_rules(chain_rules("nat", "KUBE-SERVICES"), draft_for)
            _from_node_ports(chain_rules("nat", "KUBE-NODEPORTS"), draft_for)
    else:
        _from_entry_rules(chain_rules("nat", "KUBE-SERVICES"), draft_for)
        _from_node_ports(chain_rules("nat", "KUBE-NODEPORTS"), draft_for)
    for chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS", "?"):  # ("?": -L lines without their chain's header)
        _from_filter_rules(chain, chain_rules("filter", chain), draft_for)
    claims = _per_service_chains(rules, drafts, draft_for, only)
    if only is None or not any(k[1] == only[1] and _hashes_here(rules, d) for k, d in drafts.items()):
        _unclaimed(rules, drafts, claims)  # (for one Service: only when its name hashes to nothing in the input)
    if only is not None:
        drafts = {k: d for k, d in drafts.items() if k[1] == only[1] and (only[0] is None or k[0] == only[0])}
    return [d for _, d in sorted(drafts.items())]


DraftFor = Callable[[str, str, bool], "_Draft"]  # (namespace, name, legacy colon) -> the Service's draft


@dataclass(slots=True)
class LightRule:
    """A dispatch rule of kube-proxy's own shape, read with one regex (no tokeniser): the fields the
    listing of Services and the --all templates read, as the tokenised Rule would hold them."""

    chain: str
    position: int
    raw: str
    protocol: str | None
    dest_addr: str | None
    comment: str | None
    dport: str | None
    target: str

    @property
    def dport_number(self) -> int | None:
        return int(self.dport) if self.dport else None


class _NotLight(Exception):
    """A light rule's comment would need a repair (comments.unwrap), which edits the rule: tokenise."""


# a KUBE-SERVICES / KUBE-NODEPORTS line as kube-proxy writes it (cluster IP, external IP, load-balancer IP,
# node port), or the jump to KUBE-NODEPORTS; anything else and the chain is tokenised
_LIGHT = re.compile(
    r"(?:\[\d{1,20}:\d{1,20}\] )?-A (KUBE-SERVICES|KUBE-NODEPORTS)(?: -d (\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/32))?"
    r"(?: -p (tcp|udp|sctp) -m comment --comment \"([A-Za-z0-9][A-Za-z0-9./:_ -]{0,300})\" -m \3 --dport (\d{1,5})"
    r" -j (KUBE-(?:SVC|SVL|EXT|FW|XLB)-[A-Z2-7]{16})"
    r"| -m comment --comment \"(kubernetes service nodeports; NOTE: this must be the last rule in this chain)\""
    r" -m addrtype --dst-type LOCAL -j (KUBE-NODEPORTS))")


def dispatch_rules(rules: RuleSet, chain: str) -> list[Any]:
    """The nat dispatch chain's rules: LightRule each when every line is of kube-proxy's own shape and
    the chain has not been tokenised yet, else its Rules (10^4 lines: ~15 us a rule saved); read once."""
    nat = rules.table("nat")
    if nat is not None and isinstance(nat.chains, LazyChains) and not nat.chains.pending(chain):
        return rules.rules_of("nat", chain)  # (tokenised already: those Rules)
    return rules.once(f"light {chain}", lambda _: _light_rules(rules, chain))


def _light_rules(rules: RuleSet, chain: str) -> list[Any]:
    nat = rules.table("nat")
    if nat is None or rules.excerpt or not isinstance(nat.chains, LazyChains) or not nat.chains.pending(chain):
        return rules.rules_of("nat", chain)
    text = nat.chains.text_of(chain)
    if not text:
        return rules.rules_of("nat", chain)
    out: list[Any] = []
    light = _LIGHT.fullmatch
    for i, line in enumerate(text.split("\n"), 1):
        m = light(line)
        if m is None:
            return rules.rules_of("nat", chain)
        named, dest, proto, comment, dport, target, last, nodeports = m.groups()
        if named != chain:
            return rules.rules_of("nat", chain)
        if target is None:
            out.append(LightRule(chain, i, line, None, None, last, None, nodeports))
        else:
            out.append(LightRule(chain, i, line, proto, dest, comment, dport, target))
    return out


def _from_entry_rules(entries: list[Any], draft_for: DraftFor) -> None:
    """KUBE-SERVICES: one rule per cluster IP, external IP and load-balancer IP of each port."""
    masquerades: list[Any] = []
    for rule in entries:
        said = _said(rule, True)
        if said is None:
            if rule.target == "KUBE-MARK-MASQ" and rule.comment and rule.comment.endswith(" cluster IP"):
                masquerades.append(rule)
            continue
        namespace, name, legacy_colon, pname, kind, proto = said
        if kind == "cluster IP":
            d = draft_for(namespace, name, legacy_colon)
            bucket = d.cluster_ips
            d.dispatched = True
        elif kind == "external IP" or kind == "loadbalancer IP":
            d = draft_for(namespace, name, legacy_colon)
            bucket = d.external_ips if kind == "external IP" else d.lb_ips
        else:
            continue
        pf = d.port(pname, proto)
        target = rule.target or ""
        own = _hash(target) if pf.own is None and pname else None
        if own:  # (the hash verify() found: _own_hashes' of a named port, without a second SHA-256)
            pf.own = [own]
        if pf.port is None:
            pf.port = rule.dport_number
        pf.chains.add(target)
        addr = bare_address(rule.dest_addr)
        if addr and addr not in bucket:
            bucket.append(addr)
        if kind == "cluster IP":
            d.itp = "Local" if target.startswith("KUBE-SVL-") else d.itp or "Cluster"
        elif target.startswith("KUBE-XLB-"):
            d.etp = "Local"
    _masquerade_twins(masquerades, draft_for)


def _masquerade_twins(masquerades: list[Any], draft_for: DraftFor) -> None:
    """Before 1.21 kube-proxy wrote each cluster IP's masquerade rule in KUBE-SERVICES itself, just above the
    jump to the service chain ("! -s PODCIDR -d CIP --dport P -j KUBE-MARK-MASQ", comment "SPN cluster IP").
    Pasted without that jump (a grep, a cut), it is the port's only rule: its cluster IP, port and protocol are
    seen, and its service chain is the one the name hashes to (not in the input). Only a port nothing else
    named is read from it: it has no chain to check the comment's name against."""
    for rule in masquerades:
        named = comments.read(rule.comment)
        proto = (rule.protocol or "").lstrip("!").upper()
        addr = bare_address(rule.dest_addr)
        if named is None or named.kind != "cluster IP" or proto not in ("TCP", "UDP", "SCTP") or not addr \
                or rule.dest_addr.startswith("!") or rule.dport_number is None:
            continue
        d = draft_for(named.namespace, named.name, named.legacy_colon)
        if (named.port_name, proto) in d.ports:
            continue
        pf = d.port(named.port_name, proto)
        pf.port = rule.dport_number
        d.dispatched = True
        if addr not in d.cluster_ips:
            d.cluster_ips.append(addr)


def _from_node_ports(entries: list[Any], draft_for: DraftFor) -> None:
    """KUBE-NODEPORTS: node ports, and (before 1.24) the external traffic policy."""
    for rule in entries:
        said = _said(rule, False)
        if said is None or said[4] != "name" or not rule.target or rule.target == "KUBE-MARK-MASQ":
            continue
        d = draft_for(*said[:3])
        pf = d.port(said[3], said[5])
        pf.node_port = pf.node_port or rule.dport_number
        pf.via_node_ports = True  # even when the printed rule lost its --dport
        pf.chains.add(rule.target)
        if rule.target.startswith("KUBE-XLB-"):
            d.etp = "Local"  # before 1.24: NodePort of an externalTrafficPolicy=Local Service
        elif rule.target.startswith("KUBE-SVC-"):
            d.etp = d.etp or "Cluster"  # before 1.24: NodePort straight to the service chain


# a dispatch rule's comment in the forms kube-proxy gives it there (comments.read's "SPN cluster IP", "SPN
# external IP", "SPN loadbalancer IP" and "SPN", with _SPN's grammar), its parts read in one match:
# the service port name, its namespace, name and ":port", the kind of address
_DISPATCH_SAID = re.compile(r"(([^\s/:]+)/([^\s/:]+)(:\S*)?)(?: (cluster|external|loadbalancer) IP)?")
_KINDS = {None: "name", "cluster": "cluster IP", "external": "external IP", "loadbalancer": "loadbalancer IP"}


def _said(rule: Rule | LightRule, addressed: bool) -> tuple[str, str, bool, str, str, str] | None:
    """What a dispatch rule's comment names, as _named reads it: (namespace, name, legacy colon, port name,
    kind, the protocol its target hashes from); None when it names no port its target is a chain of.

    A comment of the form the chain's rules carry (``addressed``: an address's, else the bare name) whose
    port hashes to the target is read with one match, without a comments.Named (10^4 rules); any other
    goes through _named (a repair, a form of another chain, no comment)."""
    comment, target = rule.comment, rule.target
    if comment and target and len(comment) <= 600:
        m = _DISPATCH_SAID.fullmatch(comment)
        if m is not None:
            spn, namespace, name, port, kind = m.groups()
            if (kind is not None) is addressed:
                proto = comments.service_chain_of(spn, target, rule.protocol)
                if proto is not None:
                    return namespace, name, spn[-1] == ":", port[1:] if port else "", _KINDS[kind], proto
    named, proto = _named(rule, (target,))
    if named is None or proto is None:
        return None
    return named.namespace, named.name, named.legacy_colon, named.port_name, named.kind, proto


def _from_filter_rules(chain: str, entries: list[Rule], draft_for: DraftFor) -> None:
    """The filter table's REJECT/DROP rules of ports without (local) endpoints, and its health check node
    port ACCEPTs."""
    for rule in entries:
        named = comments.read(rule.comment)
        if named is not None and named.kind == "health check" and rule.target == "ACCEPT" and chain in ("KUBE-NODEPORTS", "?"):
            # only a LoadBalancer with externalTrafficPolicy Local has a healthCheckNodePort (API validation);
            # the rule is kube-proxy's for each of its ports (always -p tcp: it tells no port's protocol)
            d = draft_for(named.namespace, named.name, named.legacy_colon)
            d.health_check = d.health_check or rule.dport_number
            d.etp = "Local"
            continue
        if named is None or named.kind not in ("no endpoints", "no local endpoints") or rule.target not in ("REJECT", "DROP"):
            continue
        d = draft_for(named.namespace, named.name, named.legacy_colon)
        proto = (rule.protocol or "tcp").lstrip("!")
        pf = d.port(named.port_name, proto)
        addr = bare_address(rule.dest_addr)
        if addr is None:
            pf.node_port = pf.node_port or rule.dport_number
            pf.via_node_ports = True
        else:
            if chain == "KUBE-SERVICES" and addr not in d.cluster_ips:
                d.cluster_ips.append(addr)
            elif chain == "?" and addr not in d.other_ips:
                d.other_ips.append(addr)
            if pf.port is None:
                pf.port = rule.dport_number
        if named.kind == "no local endpoints" and chain != "?":  # ("?": internal or external policy, the chain would say)
            if chain == "KUBE-SERVICES":
                d.itp = "Local"
            else:
                d.etp = "Local"


def _named(rule: Rule | LightRule, chains: tuple[str | None, ...], endpoint: str | None = None) -> tuple[comments.Named | None, str | None]:
    """The service port a rule's comment names, with the protocol its chain names hash from.

    A comment soft-wrapped when an ``-L`` listing was copied (``defau lt/…``) is read again
    without the break when, and only when, the repaired name hashes to the chain.
    """
    named = comments.read(rule.comment)
    proto = comments.verify(named, chains, rule.protocol, endpoint) if named is not None else None
    if proto is None and rule.comment and " " in rule.comment:
        fixed = comments.unwrap(rule.comment, chains, rule.protocol, endpoint)
        if fixed is not None:
            if isinstance(rule, LightRule):
                raise _NotLight(rule.raw)
            rule.comment = fixed
            rule.options["--comment"] = [fixed]
            named = comments.read(fixed)
            proto = comments.verify(named, chains, rule.protocol, endpoint) if named is not None else None
    return named, proto


def _per_service_chains(rules: RuleSet, drafts: dict[tuple[str, str], _Draft], draft_for: DraftFor, only: tuple[str | None, str] | None) -> _Claims | None:
    """Services seen only through their own chains (an excerpt without the entry rule).

    Every per-service chain not already tied to a found port is read; a rule in it whose
    comment names a port that hashes to the chain (or to the chain it jumps to) ties it.
    Returns what _unclaimed would work out again when no chain was read (the drafts unchanged).
    """
    nat = rules.table("nat")
    if nat is None:
        return None
    # the found ports' chains: the five per-service chains of each port's hash, and what their rules named
    hashes: set[str] = set()
    tied: set[str] = set()
    for d in drafts.values():
        for (pname, proto), pf in d.ports.items():
            hashes.update(_own_hashes(d, pname, proto, pf))
            tied.update(pf.chains)
    untied, claims = _untied(rules, nat, hashes, tied, only)
    for name in untied:
        claims = None
        body = rules.rules_of("nat", name) if only is None else rules.rules_mentioning("nat", name, (only[1],))
        dnat = next((r.to_destination for r in body if r.target == "DNAT"), None)
        for rule in body:
            named, named_proto = _named(rule, (name, rule.target), dnat if name.startswith("KUBE-SEP-") else None)
            if named is None or named_proto is None:
                continue
            d = draft_for(named.namespace, named.name, named.legacy_colon)
            pf = d.port(named.port_name, named_proto)
            pf.chains.add(name)
            if named.kind == "cluster IP" and rule.target == "KUBE-MARK-MASQ":
                _masquerade_rule(d, pf, rule)
            elif named.kind == "name" and name.startswith("KUBE-SVC-") and rule.target == "KUBE-MARK-MASQ" and rule.dport_number:
                pf.node_port = pf.node_port or rule.dport_number  # 1.21-1.23: the node port's masquerade rule
                pf.via_node_ports = True
            if name.startswith("KUBE-XLB-") or named.kind in ("balancing", "lb local", "no local endpoints"):
                d.etp = "Local"
            elif named.kind == "external" and (rule.comment or "").startswith("masquerade traffic for"):
                d.etp = d.etp or "Cluster"
            elif named.kind == "external":
                d.etp = "Local"
            break
    return claims


@dataclass(slots=True)
class _Claims:
    """What _untied learnt that _unclaimed needs, while the drafts stay as they were."""

    hashes: set[str]  # the found ports' own hashes (no port has a hash of its own yet: _unclaimed sets those)
    orphans: list[str]  # the (non-empty) hash of each per-service chain (not KUBE-SEP) of none of them


def _untied(rules: RuleSet, nat: Table, hashes: set[str], tied: set[str], only: tuple[str | None, str] | None) -> tuple[list[str], _Claims | None]:
    """The per-service chains no found port owns or jumps to, in the table's order (and, listing every
    Service, the table's per-service chains of no found hash, for _unclaimed)."""
    # an endpoint chain of a port already found is not read again (its jumps are read from the text:
    # tokenising every service chain here would hold the whole table at once); each chain read once
    # (a port's service chain is both tied and of a found hash)
    found = dict.fromkeys(tied)
    chains = nat.chains
    if only is None:  # the per-service chains of no found hash, neither tied nor jumped to, in the table's order
        names = list(chains)
        by_head = _by_head(names)
        if all(hashes.issuperset(map(operator.itemgetter(slice(len(head), None)), by_head[head])) for head in _PER_SERVICE[:-1]):
            # (a whole table: every per-service chain a found port's; only endpoint chains may be untied)
            for head in _PER_SERVICE[:-1]:
                found.update(dict.fromkeys(by_head[head]))
            untied = [n for n in _unjumped(nat, list(found), by_head["KUBE-SEP-"]) if n not in tied]
            if untied:  # (in the table's order)
                untied = list(filter(set(untied).__contains__, names))
            return untied, _Claims(hashes, [])
        orphans: list[str] = []
        # (the table's per-service chains - ~10% of its names, kept at C speed - either a found port's, or not)
        for n in filter(_HASHED_NAME, names):
            h = _hash(n)
            if h in hashes:
                found[n] = None
            elif h:
                orphans.append(h)
        jumped = _all_targets(nat, list(found))
        # (the chains jumped to - most of a big table's: its endpoint chains - dropped at C speed first)
        untied = [n for n in itertools.filterfalse(jumped.__contains__, names)
                  if n not in tied and n.startswith(_PER_SERVICE) and _hash(n) not in hashes]
        return untied, _Claims(hashes, orphans)
    # one Service: only the chains whose text names it can tie a port to it (found in one pass)
    # (most of a port's five are not in the table: a lookup, not a Chain; the names made one at a time)
    own = itertools.chain.from_iterable(map(head.__add__, hashes) for head in _PER_SERVICE[:-1])
    found.update(dict.fromkeys(chains.having(own) if isinstance(chains, LazyChains) else [n for n in own if n in chains]))
    mentioned = rules.chains_mentioning("nat", only[1])
    # (the few chains whose text names it, kept in the table's order at C speed: not a Python test of 10^5 names)
    untied = [n for n in (chains if mentioned is None else filter(mentioned.__contains__, chains))
              if n.startswith(_PER_SERVICE) and n not in tied and _hash(n) not in hashes]
    if untied:
        jumped = {t for name in found for t in _targets(nat, name)}
        untied = [n for n in untied if n not in jumped]
    return untied, None


def _by_head(names: list[str]) -> dict[str, list[str]]:
    """The names that start with each of _PER_SERVICE's heads, in sorted order: slices of the sorted names
    (iptables-save prints a table's chains sorted: sorting them again is a pass at C speed)."""
    ordered = sorted(names)
    out: dict[str, list[str]] = {}
    for head in _PER_SERVICE:  # (a name starts with "KUBE-SVC-" when it sorts from it to "KUBE-SVC.")
        lo = bisect.bisect_left(ordered, head)
        out[head] = ordered[lo:bisect.bisect_left(ordered, head[:-1] + ".", lo)]
    return out


_LINE_TARGET = re.compile(r"^[^\n]*? -[jg] (\S+)", re.M)  # a rule line's verdict (Chain.targets() reads the same)
_LAST_JUMP = compile_possessive(r" -j (\S++)(?=\n|\Z)")  # a jump that ends its line


def _targets(nat: Table, name: str) -> set[str]:
    """What a chain's rules jump to; a big table's chain is read from its text, without making a Chain
    (an audit asks this of every Service's chains: 50,000 Chain objects and their line offsets)."""
    if isinstance(nat.chains, LazyChains) and nat.chains.pending(name):
        text = nat.chains.text_of(name)
        return _text_targets(text) if text else set()
    c = nat.chains.get(name)
    return c.targets() if c is not None else set()


def _all_targets(nat: Table, names: list[str]) -> set[str]:
    """What the chains' rules jump to, all together: _targets of each; the chains not read yet in batches
    of one text each (the same lines, so the same verdicts: an audit asks it of 10^4 chains)."""
    if not isinstance(nat.chains, LazyChains):
        return {t for name in names for t in _targets(nat, name)}
    chains = nat.chains
    unread = list(filter(chains.pending, names))  # (10^4 names: a C loop, no list comprehension)
    out: set[str] = set()
    if len(unread) < len(names):  # (Chains made already: their own targets())
        out = {t for name in itertools.filterfalse(chains.pending, names) for t in _targets(nat, name)}
    ranges = chains.blocks_of(unread, 512)
    if ranges is not None:  # (the runs read in place, 512 at most a range: no text made for them)
        text = chains.text
        for lo, hi in ranges:
            out.update(_text_jumps(text, lo, hi))
        return out
    for i in range(0, len(unread), 512):  # (a batch's text, not the 10^5 lines at once: the audit's peak)
        texts = [t for t in chains.texts_of(unread[i:i + 512]) if t]
        if texts:
            out.update(_text_targets("\n".join(texts)))
    return out


def _unjumped(nat: Table, names: list[str], candidates: list[str]) -> list[str]:
    """The ``candidates`` that no rule of the chains ``names`` jumps to, in order. _all_targets' answer
    without its set of every target (10^5 new names: ~8 MB at an audit's peak): the candidates left
    shrink as each batch of the chains' lines is read in place."""
    chains = nat.chains
    ranges = chains.blocks_of(names, 512) if isinstance(chains, LazyChains) and all(map(chains.pending, names)) else None
    if ranges is None or not isinstance(chains, LazyChains):  # (a Chain made already: its own targets())
        jumped = _all_targets(nat, names)
        return list(itertools.filterfalse(jumped.__contains__, candidates))
    left = set(candidates)
    text = chains.text
    for lo, hi in ranges:
        left.difference_update(_text_jumps(text, lo, hi))
    return list(filter(left.__contains__, candidates)) if left else []


def _text_targets(text: str, lo: int = 0, hi: int | None = None) -> set[str]:
    return set(_text_jumps(text, lo, hi))


def _text_jumps(text: str, lo: int = 0, hi: int | None = None) -> list[str]:
    """Each line's first jump (its "-j"/"-g" target), in order."""
    # one "-j TARGET" per line, as kube-proxy writes them: found by their literal, at C speed;
    # any other text line by line, its first jump each
    # (as many " -j " as lines, and each line ends with one: exactly one a line)
    # ``text[lo:hi]``: whole lines (``lo`` a line's start), read in place
    if hi is None:
        hi = len(text)
    lines = text.count("\n", lo, hi) + 1
    if text.find(" -g ", lo, hi) < 0 and text.count(" -j ", lo, hi) == lines:
        found = _LAST_JUMP.findall(text, lo, hi)
        if len(found) == lines:
            return found
    return _LINE_TARGET.findall(text, lo, hi)


_HASHED_HEADS = frozenset(p for p in _PER_SERVICE[:-1] if len(p) == 9)  # all but "KUBE-FW-"
_HASHED_NAME = operator.methodcaller("startswith", _PER_SERVICE[:-1])  # a chain _hash() gives a hash of


def _hash(chain: str) -> str | None:
    """The hash of a per-service chain (not an endpoint chain): asked of every chain of the table."""
    if chain[:9] in _HASHED_HEADS:
        return chain[9:]
    return chain[8:] if chain.startswith("KUBE-FW-") else None


def _unclaimed(rules: RuleSet, drafts: dict[tuple[str, str], _Draft], claims: _Claims | None = None) -> None:
    """Per-service chains no found port owns: list them as what they are, never drop them.

    A jump whose comment names a port that does not hash to the chain (an author edited the name,
    or cut the namespace) gives a Service under that name, marked as not matching its chains; a
    chain with no comment at all (large-cluster mode drops them) gives a Service with no name.
    Either way its port follows the chains' hash, and the notes say why. ``claims``: what _untied
    found of the same drafts (every chain's name not walked again).
    """
    nat = rules.table("nat")
    if nat is None:
        return
    claimed: set[str] = set()  # the hash of each found port: its per-service chains are claimed
    if claims is not None:
        claimed = claims.hashes
    else:
        for d in drafts.values():
            for (pname, proto), pf in d.ports.items():
                if pf.hash:
                    claimed.add(pf.hash)
                claimed.update(_own_hashes(d, pname, proto, pf))
    groups: dict[str, list[Any]] = {}
    for dispatch in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
        for rule in dispatch_rules(rules, dispatch):
            h = _hash(rule.target or "")
            if h and h not in claimed:
                groups.setdefault(h, []).append(rule)
    if claims is not None:
        for h in claims.orphans:
            if h not in groups:
                groups[h] = []
    else:
        for h in map(_hash, filter(_HASHED_NAME, nat.chains)):  # (the endpoint chains, ~90%, dropped at C speed)
            if h and h not in claimed and h not in groups:
                groups[h] = []
    for h, entries in sorted(groups.items()):
        named = next((n for r in entries if (n := comments.read(r.comment)) is not None and "/" in n.spn), None)
        if named is None:  # a comment inside the port's own chains ("… has no local endpoints")
            named = next((n for r in _own_rules(rules, h) if (n := comments.read(r.comment)) is not None and n.kind != "balancing"), None)
        key = (named.namespace, named.name) if named else ("", f"#{h}")
        if key not in drafts:
            drafts[key] = _Draft(*key)
        d = drafts[key]
        proto = next(((r.protocol or "").lstrip("!").upper() for r in entries if r.protocol), None) or _chains_protocol(rules, h)
        pf = d.port(named.port_name if named else "", proto)
        pf.hash = h
        for r in entries:
            pf.chains.add(r.target or "")
            addr = bare_address(r.dest_addr)
            if r.chain == "KUBE-NODEPORTS":
                pf.node_port = pf.node_port or r.dport_number
                pf.via_node_ports = True
            elif addr:
                said = comments.read(r.comment)
                kind = said.kind if said else _uncommented_kind(r.target or "")
                bucket = {"external IP": d.external_ips, "loadbalancer IP": d.lb_ips, None: d.other_ips}.get(kind, d.cluster_ips)
                if addr not in bucket:
                    bucket.append(addr)
                pf.port = pf.port or r.dport_number


def _uncommented_kind(target: str) -> str | None:
    """What an address is whose KUBE-SERVICES rule has no comment, by the chain it jumps to: a cluster IP's rule jumps
    to the service chain, a load balancer's to KUBE-FW- (firewall), a load balancer's or an external IP's to KUBE-EXT-
    (1.24+) or KUBE-XLB- (Local policy, before 1.24): None, which of the two not in the input."""
    if target.startswith("KUBE-FW-"):
        return "loadbalancer IP"
    return None if target.startswith(("KUBE-EXT-", "KUBE-XLB-")) else "cluster IP"


def _own_rules(rules: RuleSet, h: str) -> list[Rule]:
    """The rules of a port's own chains (KUBE-SVC-, -SVL-, -EXT-, -FW-, -XLB- of hash ``h``) the input holds."""
    return [r for p in _PER_SERVICE[:-1] for r in rules.rules_of("nat", f"{p}{h}")]


def _chains_protocol(rules: RuleSet, h: str) -> str:
    """The protocol the port's own chains or their endpoint chains match (a masquerade rule's or a DNAT's
    ``-p``); "?" when none is in the input (no protocol stands in for one the input does not show)."""
    own = _own_rules(rules, h)
    seps = dict.fromkeys(r.target for r in own if (r.target or "").startswith("KUBE-SEP-"))  # (in rule order)
    return next(((r.protocol or "").lstrip("!").upper() for r in own + [r for t in seps for r in rules.rules_of("nat", t or "")]
                 if r.protocol), "?")


def _spns(d: _Draft, pname: str) -> list[str]:
    out = [kubeproxy.service_port_name(d.namespace, d.name, pname)]
    if not pname:
        out.append(kubeproxy.service_port_name(d.namespace, d.name, "", legacy_colon=True))
    return out


def _hashes_here(rules: RuleSet, d: _Draft) -> bool:
    """Some port of the Service has a chain its name hashes to in the input (else the comments naming it were edited:
    its chains are _unclaimed's to tie to it, as listing every Service does)."""
    nat = rules.table("nat")
    return nat is not None and any(head + h in nat.chains for (pname, proto), pf in d.ports.items()
                                   for h in _own_hashes(d, pname, proto, pf) for head in _PER_SERVICE[:-1])


def _own_hashes(d: _Draft, pname: str, proto: str, pf: _Port) -> list[str]:
    """The chain hashes of the port's service port name(s) (_spns), worked out once a port."""
    if pf.own is None:
        pf.own = [kubeproxy.port_proto_hash(spn, proto) for spn in _spns(d, pname)]
    return pf.own


def _finish(d: _Draft, rules: RuleSet) -> ServiceSnapshot:
    ports: list[ServicePort] = []
    endpoints: dict[str, tuple[Endpoint, ...]] = {}
    affinity: list[int | None] = []  # per port: its timeout, or None where the chain shows none
    whole = True  # every service chain of the Service is in the input, complete
    for (pname, proto), f in sorted(d.ports.items()):
        spn = _spns(d, pname)[-1 if d.legacy_colon else 0]
        chains = kubeproxy.service_chains(spn, proto)
        if f.hash:
            chains = {k: f"KUBE-{k.upper()}-{f.hash}" for k in ("svc", "svl", "ext", "fw", "xlb")}
        policy = [chains["svc"], chains["svl"], chains["xlb"]]
        if f.port is None or not d.cluster_ips:  # (found by its node port or external chain: no KUBE-SERVICES rule)
            _cluster_ip_in_chain(d, f, rules.rules_of("nat", chains["svc"]), (d.namespace, d.name, pname))
        eps = _dnat_targets(rules, policy)
        if not eps:  # only the endpoint chains are in the input
            eps = _dnat_of(rules, sorted(c for c in f.chains if c.startswith("KUBE-SEP-")))
        target_ports = {p for _, p in eps}
        ports.append(ServicePort(
            name=pname, protocol=proto, port=f.port,
            target_port=target_ports.pop() if len(target_ports) == 1 else None,
            node_port=f.node_port, rules_key=f.hash,
        ))
        endpoints[pname] = tuple(Endpoint(ip=ip, port=p, ready=None, serving=None, terminating=None) for ip, p in eps)
        seen = [c for c in policy if rules.chain("nat", c) is not None]
        timeout = _affinity(rules, seen)
        d.etp = d.etp or _external_policy(rules, chains)
        affinity.append(timeout)
        # affinity rules come with the endpoint rules: only a whole chain that has those proves "None"
        jumps = any((r.target or "").startswith("KUBE-SEP-") for c in seen for r in rules.rules_of("nat", c))
        whole = whole and jumps and all(rules.chain_complete("nat", c) for c in seen)
        # (a listing that hides the statistic matches of the endpoint jumps, as nft does, may hide "recent" too: an
        # affinity rule reads as one more unconditional jump)
        whole = whole and not any(hidden_split(rules.rules_of("nat", c)) for c in seen)
    node_ports = any(p.node_port for p in ports) or any(f.via_node_ports for f in d.ports.values())
    stype = _service_type(d, rules, node_ports)
    etp = d.etp
    if etp is None and stype == "ClusterIP":
        etp = None  # no external traffic: the field does not apply
    timeouts = [t for t in affinity if t]
    if timeouts:
        session: str | None = "ClientIP"
    elif whole and d.ports:
        session = "None"  # every service chain is whole and none has a "recent" rule
    else:
        session = None
    return ServiceSnapshot(
        namespace=d.namespace, name="" if d.name.startswith("#") else d.name, type=stype, cluster_ips=tuple(d.cluster_ips), ports=tuple(ports),
        external_ips=tuple(d.external_ips), load_balancer_ips=tuple(d.lb_ips),
        other_ips=tuple(ip for ip in d.other_ips if ip not in d.cluster_ips + d.external_ips + d.lb_ips),
        external_traffic_policy=etp, internal_traffic_policy=_internal_policy(d, rules),
        session_affinity=session, affinity_timeout=timeouts[0] if timeouts else None,
        health_check_node_port=d.health_check, endpoints=endpoints, has_slices=False, from_api=False,
    )


def _internal_policy(d: _Draft, rules: RuleSet) -> str | None:
    """internalTrafficPolicy as the rules show it: Local from a jump to KUBE-SVL or a "has no local endpoints"
    rule; Cluster from a jump to KUBE-SVC only where the layout tells the two apart (1.24+, or before 1.21)."""
    if d.itp != "Cluster" or rules.once("jump tells itp", jump_tells_internal_policy):
        return d.itp
    return None


def _masquerade_rule(d: _Draft, pf: _Port, rule: Rule | LightRule) -> None:
    """Since 1.21 the service chain's first rule is the cluster IP's masquerade rule ("-d CIP --dport P -j
    KUBE-MARK-MASQ", comment "SPN cluster IP"): the cluster IP and port it shows."""
    addr = bare_address(rule.dest_addr)
    if addr and addr not in d.cluster_ips:
        d.cluster_ips.append(addr)
    pf.port = pf.port or rule.dport_number


def _cluster_ip_in_chain(d: _Draft, pf: _Port, body: list[Rule], port: tuple[str, str, str]) -> None:
    """The cluster IP and port of a port found without its KUBE-SERVICES rule (by its node port, its
    external chain), from its service chain's masquerade rule when the input shows that."""
    for rule in body:
        if (rule.target == "KUBE-MARK-MASQ" and not rule.comment and port[1].startswith("#") and rule.dport_number
                and (rule.source_addr or "").startswith("!") and rule.dest_addr and not rule.dest_addr.startswith("!")):
            # no comment (iptables-nft's chains as `nft list` prints them, big clusters): the rule masquerading what
            # does not come from a pod is the cluster IP's ("! -s PODCIDR -d CIP --dport P"); an external IP's, in
            # the service chain of 1.21-1.23, has no "! -s"
            _masquerade_rule(d, pf, rule)
            return
        if rule.target != "KUBE-MARK-MASQ" or not rule.comment or not rule.comment.endswith(" cluster IP"):
            continue
        named = comments.read(rule.comment)
        if named is not None and named.kind == "cluster IP" and (named.namespace, named.name, named.port_name) == port:
            _masquerade_rule(d, pf, rule)
            return


def _service_type(d: _Draft, rules: RuleSet, node_ports: bool) -> str | None:
    """The type the rules show, or None when the input cannot tell."""
    dispatch_whole = rules.chain_complete("nat", "KUBE-SERVICES") and rules.chain_complete("nat", "KUBE-NODEPORTS")
    if not any(f.chains for f in d.ports.values()):
        # no nat rules at all (no endpoints): a NodePort would only show as a filter REJECT
        dispatch_whole = dispatch_whole and rules.chain_complete("filter", "KUBE-EXTERNAL-SERVICES")
    if d.lb_ips or d.health_check or any(c.startswith("KUBE-FW-") for f in d.ports.values() for c in f.chains):
        return "LoadBalancer"  # (kube-proxy writes a KUBE-FW chain only for a load-balancer IP with source ranges)
    if node_ports and (dispatch_whole or d.dispatched):
        # (or a LoadBalancer without an ingress address yet: the rules look the same). Said when the input
        # holds the Service's dispatch rules (the whole table, or its cluster IP's, as a grep of its name
        # shows them): a node port alone (a filter DROP, a grep of the port) may be a LoadBalancer's
        return "NodePort"
    if d.cluster_ips and dispatch_whole and not d.other_ips:
        # the whole nat table is here and holds no NodePort rule for it (an address of unknown kind may be a load
        # balancer's, of a LoadBalancer without node ports: allocateLoadBalancerNodePorts false)
        return "ClusterIP"
    return None


def _external_policy(rules: RuleSet, chains: dict[str, str]) -> str | None:
    """externalTrafficPolicy as the port's external chain shows it (1.24+), or a KUBE-XLB chain (before)."""
    if rules.chain("nat", chains["xlb"]) is not None:
        return "Local"
    for rule in rules.rules_of("nat", chains["ext"]):
        comment = rule.comment or ""
        if comment.startswith("masquerade traffic for "):
            return "Cluster"
        if comment.startswith(("pod traffic for ", "route LOCAL traffic for ")) or rule.target == chains["svl"]:
            return "Local"
    return None


def _affinity(rules: RuleSet, chains: list[str]) -> int | None:
    """ClientIP affinity seen: a "recent --rcheck" rule in the service chain (its --seconds), else None."""
    for chain in chains:
        for rule in rules.rules_of("nat", chain):
            if "--rcheck" in rule.options or "--update" in rule.options:
                seconds = rule.options.get("--seconds") or ["0"]
                return int(seconds[0]) if seconds[0].isdigit() and len(seconds[0]) <= 9 else 10800
    return None


def _dnat_targets(rules: RuleSet, chains: list[str]) -> list[tuple[str, int | None]]:
    seps = [r.target for chain in chains for r in rules.rules_of("nat", chain) if r.target and r.target.startswith("KUBE-SEP-")]
    return _dnat_of(rules, seps)


def _dnat_of(rules: RuleSet, seps: list[str]) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    seen: set[tuple[str, int | None]] = set()  # a list's `in` made 40,000 endpoints take a minute
    for sep in seps:
        for r in rules.rules_of("nat", sep):
            if r.target == "DNAT":
                ip, port = split_hostport(r.to_destination)
                if ip and (ip, port) not in seen:
                    seen.add((ip, port))
                    out.append((ip, port))
    return out

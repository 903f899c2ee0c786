"""``--all`` over one whole iptables-save dump, as a table: each Service's row without its full analysis.

The full analysis of 10,000 Services reads every rule through the tokeniser and runs correlate,
expected and diagnose 10,000 times. Most Services of a node are alike: the same rules but for
their names, addresses, ports and counters. Here each Service's footprint - every line its
analysis reads (its entry rules, its filter REJECT/DROP rules, its chains and endpoint chains,
what the input says about each chain, and the draft the Services were listed from) - is turned
into a template by taking those values out (addresses that checks treat specially, like
127.0.0.0/8, stay in the template, and so does any address or port the analysis does not read as
written - port 0, "080", an octet past 255 or with a leading zero -, and probabilities, comments
and options; a ``.0`` host is told apart). The first Service of each template gets the full analysis; every later one gets that
row with its own values put back: the same template means the same rules up to a renaming of
values the analysis only compares for equality, hence the same health, type, endpoint count and
ports. Anything outside what a template can vouch for (a chain of another Service in the
footprint, an entry rule without its port, an excerpt, a kernel view) gets the full analysis.
tests/unit/modes/iptables/test_audit_onepass.py holds the rows to the full analysis', and
tests/fuzz/onepass.py on mutated inputs.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from kubectl_svcpath.modes.iptables import audit_match, infer, model
from kubectl_svcpath.modes.iptables.model import LazyChains, Rule, RuleSet, bare_address
from kubectl_svcpath.modes.templates import NOT_FAST, Recipe, TemplateRows, split_cell
from kubectl_svcpath.parse.possessive import compile_possessive

if TYPE_CHECKING:
    from kubectl_svcpath.report import Report

# the values a template leaves out, one kind per pattern: each starts with a literal, which the regex
# engine looks for at C speed (one pattern of alternatives was tried at every space and dash)
_HOST = f"({audit_match.HOST})"  # (the one pattern both ways: a template's places are these values' places)
_COUNTERS = re.compile(r"\n\[(\d{1,20}):\d{1,20}\] ")
_HASHES = re.compile(r"KUBE-(SVC|SVL|EXT|FW|XLB|SEP)-([A-Z2-7]{16})(?![\w-])")
# (each with its literal: a text without it is not split at all)
_ADDRESSES = ((" -d ", re.compile(r" -d " + _HOST + r"(?![\w.])")), (" -s ", re.compile(r" -s " + _HOST + r"(?![\w.])")))
_PORT = f"({audit_match.PORT})"
_ENDPOINTS = (("--to-destination ", re.compile(r"--to-destination " + _HOST + ":" + _PORT + r"(?![\w.:])")),
              ("-> ", re.compile(r"-> " + _HOST + ":" + _PORT + r"(?![\w.:])")))  # (the endpoint a jump's comment names, 1.24+)
_PORTS = re.compile(r"--dport " + _PORT + r"(?![\w:,])")
# an endpoint chain as kube-proxy writes it (the bulk of a big table), read with one anchored match:
# the hairpin masquerade rule, then the DNAT (with "recent --set" under ClientIP affinity)
# (possessive counts: a digit or hash character given back could never let the literal after it match;
# an address or a port that is not a value fails the match: that chain is then in the template as it is)
_SEP_BODY = compile_possessive(
    r"(?:\[(\d{1,20}+):\d{1,20}+\] )?-A KUBE-SEP-([A-Z2-7]{16}+) -s " + _HOST
    + r"/32( -m comment --comment [^\n]*?)? -j KUBE-MARK-MASQ\n"
    r"(?:\[(\d{1,20}+):\d{1,20}+\] )?-A KUBE-SEP-\2 -p (tcp|udp|sctp)( -m comment --comment [^\n]*?)? -m \6"
    r"( -m recent --set --name KUBE-SEP-\2 --mask 255\.255\.255\.255 --rsource)? -j DNAT --to-destination " + _HOST
    + ":" + _PORT)
_SEP = re.compile(r" -[jg] KUBE-SEP-([A-Z2-7]{16})(?![\w-])")
_SEP_J = re.compile(r" -j KUBE-SEP-([A-Z2-7]{16})(?![\w-])")  # (a literal the engine finds at C speed)
_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
_IPV4 = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3})")
_DIGITS = re.compile(r"(\d+)")
_ROLES = ("SVC", "SVL", "EXT", "FW", "XLB")
_OWN_PREFIXES = tuple(f"KUBE-{role}-" for role in _ROLES)
_NONE = itertools.repeat(())  # (dict.get's default for each name: map() stops at the shortest)
_RAW = operator.attrgetter("raw")
_ADDRESS = "\n -d {}".format


@dataclass(slots=True)
class _Footprint:
    text: str  # every line the Service's analysis reads, and the draft it was listed from
    filter_from: int  # where its filter-table lines start in ``text``, and end
    filter_to: int
    allowed: set[str]  # the chain hashes that may appear in it: its own and its endpoint chains'
    seps: list[Any]  # endpoint chains of kube-proxy's own shape: _SEP_BODY's groups, a list per group (or [])
    jumps: list[Any]  # the service chains' jumps of kube-proxy's own shape: _JUMP_LINE's groups (see _own_chains)


@dataclass(slots=True)
class _Values:
    key: tuple[str, tuple[Any, ...]]
    counters: list[str]  # packets of each line with counters, in order
    ips: list[str]
    ports: list[str]


class FastAudit:
    """Rows of a whole dump's Services: templates first seen get ``one`` (the full analysis)."""

    def __init__(self, rules: RuleSet, one: Callable[[Any], tuple[Any, Any]]) -> None:
        self.rules = rules
        self.one = one  # snapshot -> (report, audit line)
        self.rows = TemplateRows()
        self.matchers = audit_match.Matchers()
        nat = rules.table("nat")
        assert nat is not None and isinstance(nat.chains, LazyChains)
        self.nat: LazyChains = nat.chains
        self.filter = _filter_index(rules)
        # the dispatch chains' rules that jump to a service port's own chains, by the port's hash, in each
        # chain's order (correlate takes a port's entry rules so; one lookup a port, not one a chain)
        self.entries: list[dict[str, list[Any]]] = []
        self.portless: set[str] = set()  # the hashes an entry rule without its port jumps to a chain of
        for dispatch in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
            index: dict[str, list[Any]] = {}
            for r in infer.dispatch_rules(rules, dispatch):
                h = _own_hash(r.target) if r.target else None
                if h is not None:
                    index.setdefault(h, []).append(r)
                    if r.dport is None:
                        self.portless.add(h)
            self.entries.append(index)
        # each hash's own chains the table has, in _OWN_PREFIXES' order (a port has one or two of the five:
        # the names it lacks are not looked up in the table's 10^5 - each lookup a cache miss)
        self.own: dict[str, list[str]] = {}
        for name in sorted(filter(_OWN_NAME, self.nat), key=_prefix_rank):
            h = _own_hash(name)
            if h is not None:
                self.own.setdefault(h, []).append(name)

    def _own_names(self, hashes: list[str]) -> list[str]:
        """The own chains of ``hashes`` the table has, hash by hash, each hash's in _OWN_PREFIXES' order."""
        if len(hashes) == 1:
            return self.own.get(hashes[0], [])
        return list(itertools.chain.from_iterable(map(self.own.get, hashes, _NONE)))

    def lines(self, keep: Callable[[str], bool]) -> Iterator[Any]:
        drafts = infer._drafts(self.rules, None)
        drafts.reverse()
        while drafts:  # each draft let go once its line is made: the rows take the memory they held
            d = drafts.pop()
            if keep(d.namespace):
                yield self.line(d)

    def line(self, d: Any) -> Any:
        if not (_PLAIN_NAME.fullmatch(d.namespace) and _PLAIN_NAME.fullmatch(d.name)):
            return self.one(infer._finish(d, self.rules))[1]
        if self.matchers.by_shape:  # (a template met often: the Service's text matched against it whole)
            shape = _shape(d)
            known = self.matchers.by_shape.get(shape)
            if known is not None:
                raw = self._raw(d)
                found = self.matchers.match(shape, raw, known) if raw is not None else None
                if found is not None:
                    return _apply(found[0], found[1], d)
        fp = self._footprint(d)
        vals = _values(fp, f"{d.namespace}/{d.name}") if fp is not None else None
        if fp is None or vals is None:
            return self.one(infer._finish(d, self.rules))[1]
        recipe = self.rows.recipe(vals.key)
        if recipe is None:
            line = self.rows.line(vals.key, lambda recipe: _apply(recipe, vals, d), lambda: self.one(infer._finish(d, self.rules)),
                                  lambda report, line: _recipe(report, line, fp, vals, d))
            recipe = self.rows.recipe(vals.key)
        else:  # (most Services: their template met before)
            line = _apply(recipe, vals, d)
        if recipe is not None and self.matchers.worth_learning(vals.key):
            self.learn(d, fp, vals, recipe, "")
        return line

    def learn(self, d: Any, fp: _Footprint, vals: _Values, recipe: Recipe, api: str) -> None:
        """Compile the template of ``d`` (its footprint ``fp``, its values ``vals``; ``api``: the text
        audit_api adds), for the Services of its shape still to come."""
        def make(known: list[Any]) -> Any:
            raw = self._raw(d)
            if raw is None:
                return None
            ref = f"{d.namespace}/{d.name}"
            return audit_match.compile_template(raw + api.replace(ref, "\x01"), vals.ips, vals.ports,
                                                audit_match.counter_lines(fp.text, ref), recipe, recipe.pkts, known)
        self.matchers.learn(_shape(d), make)

    def _head(self, d: Any) -> tuple[list[str], list[str], list[str]] | None:
        """The footprint's first parts - the draft, its entry rules, its filter rules -, the hashes of
        its ports and the endpoint chains it was listed from; None when they hold what a template cannot
        vouch for."""
        # (its lines: the draft's fields, " -d ADDRESS" of each cluster, external and load-balancer IP, a line a port)
        head = [f"D {d.legacy_colon} {d.itp} {d.etp}", *map(_ADDRESS, d.cluster_ips), "\nX", *map(_ADDRESS, d.external_ips),
                "\nL", *map(_ADDRESS, d.lb_ips)]
        hashes: list[str] = []
        listed: list[str] = []  # the endpoint chains the draft was listed from (port by port, in name order)
        for (pname, proto), f in sorted(d.ports.items()) if len(d.ports) > 1 else d.ports.items():
            chains = sorted(f.chains) if len(f.chains) > 1 else f.chains
            head.append(f"\nP {pname} {proto} {f.hash} --dport {f.port} --dport {f.node_port} {f.via_node_ports} "
                        + " ".join(chains))
            if "KUBE-SEP-" in head[-1]:
                listed += [c[9:] for c in chains if c.startswith("KUBE-SEP-")]
            if f.hash:
                hashes.append(f.hash)
            else:
                hashes += infer._own_hashes(d, pname, proto, f)
        if not self.portless.isdisjoint(hashes):
            return None  # a port match the listing hides: the checks then read the whole dispatch chain
        entries: list[Any] = []
        for index in self.entries:  # KUBE-SERVICES, then KUBE-NODEPORTS: in each, in the chain's order
            if len(hashes) == 1:
                entries += index.get(hashes[0], ())
            else:
                found = list(itertools.chain.from_iterable(map(index.get, hashes, _NONE)))
                entries += sorted(found, key=_position) if len(found) > 1 else found
        filtered = self._filter_rules(d, hashes) if self.filter[0] or self.filter[1] else ()
        parts = ["".join(head), "\nE\n", "\n".join(map(_RAW, entries)), "\nF\n" + "\n".join(map(_RAW, filtered))]
        return parts, hashes, listed

    def _footprint(self, d: Any) -> _Footprint | None:
        """The Service's lines, or None when they hold what a template cannot vouch for."""
        found = self._head(d)
        if found is None:
            return None
        parts, hashes, listed = found
        filter_to = sum(map(len, parts))
        filter_from = filter_to - len(parts[-1])
        own = [prefix + h for h in hashes for prefix in _OWN_PREFIXES]
        seps: dict[str, None] = {}
        jumps = _own_chains(own, self.nat.texts_of(own), parts, seps)
        if listed:
            seps.update(dict.fromkeys(listed))
        names = list(map("KUBE-SEP-".__add__, seps))
        runs = self.nat.runs_of(names)
        columns = _canonical_seps(list(seps), self.nat.text, runs) if runs is not None else None
        if columns is None:  # not all of kube-proxy's shape: each endpoint chain in the template as it is
            columns = []
            for name, body in zip(names, self.nat.texts_of(names), strict=True):
                parts.append(f"\nC {name} {'-' if body is None else ''}\n{body or ''}")
        return _Footprint("".join(parts), filter_from, filter_to, set(hashes) | set(seps), columns, jumps)

    def _raw(self, d: Any) -> str | None:
        """The footprint as the input has it: every line whole (audit_match's templates), the Service's
        name masked; None as _footprint."""
        found = self._head(d)
        if found is None:
            return None
        parts, hashes, listed = found
        own = self._own_names(hashes)
        seps: dict[str, None] = {}
        for name, body in zip(own, self.nat.texts_of(own), strict=True):
            if body is not None:  # (a chain of the table: None only if one is a name twice)
                parts += ("\nC ", name, "\n", body)
                if "KUBE-SEP-" in body:
                    seps.update(dict.fromkeys((_SEP if " -g " in body else _SEP_J).findall(body)))
        if listed:
            seps.update(dict.fromkeys(listed))
        # (the endpoint chains in the order the jumps to them name them: their names are in the text before)
        bodies = self.nat.texts_of(list(map("KUBE-SEP-".__add__, seps)))
        parts += ("\nS\n", _BETWEEN.join(cast(list[str], bodies) if None not in bodies else [_NO_CHAIN if b is None else b for b in bodies]))
        return "".join(parts).replace(f"{d.namespace}/{d.name}", "\x01")

    def _filter_rules(self, d: Any, hashes: list[str]) -> list[Rule]:
        """The filter REJECT/DROP rules the correlator may take as the Service's (by comment, address, port)."""
        by_comment, by_address = self.filter
        if not by_comment and not by_address:
            return []
        found: dict[int, Rule] = {}
        addresses = [*d.cluster_ips, *d.external_ips, *d.lb_ips]
        for (pname, proto), f in d.ports.items():
            for spn in infer._spns(d, pname):
                for r in by_comment.get(spn, ()):
                    found[id(r)] = r
            for a in addresses:
                for r in by_address.get((a, f.port, proto.lower()), ()):
                    found[id(r)] = r
            for r in by_address.get((None, f.node_port, proto.lower()), ()):
                found[id(r)] = r
        return sorted(found.values(), key=lambda r: (r.chain, r.position))


# a service chain's jump to an endpoint chain as kube-proxy writes it (the bulk of a service chain's
# text): read with one anchored split per chain, its values taken out as columns, not masked in the text
# (a line found by the newline before it, a literal: the text is read with a newline in front)
_JUMP_LINE = compile_possessive(r"\n(?:\[(\d{1,20}+):\d{1,20}+\] )?-A (KUBE-(?:SVC|SVL|XLB)-[A-Z2-7]{16}+)"
                                r"( -m comment --comment \"[^\"\n]*+\")?( -m statistic --mode random --probability [0-9.]{1,20}+)?"
                                r" -j KUBE-SEP-([A-Z2-7]{16}+)(?=\n|\Z)")
_IS_NONE = functools.partial(operator.is_, None)
_JUMPED = "\x05"  # where a jump line was taken out of a chain's text (a chain holding it is kept whole)


def _own_chains(own: list[str], bodies: list[str | None], parts: list[str], seps: dict[str, None]) -> list[Any]:
    """The Service's own chains into the footprint's ``parts``, the endpoint chains they jump to into
    ``seps`` (in order); returns the jump lines taken out, as _JUMP_LINE's groups: counters, comment,
    probability, endpoint chain hash, a list each (the chain's name is the one ``parts`` names)."""
    jumps: list[list[Any]] = [[], [], [], []]
    comments: list[str] = []
    if None in bodies:  # (most of a port's five: one part names them all)
        parts.append("\nA " + " ".join(itertools.compress(own, map(_IS_NONE, bodies))) + "\n")
    for name, body in zip(own, bodies, strict=True):
        if body is None:
            continue
        if not body or name.startswith(("KUBE-EXT-", "KUBE-FW-")):
            parts.append(f"\nC {name} \n{body}")
            continue
        split = _JUMP_LINE.split("\n" + body) if _JUMPED not in body else [body]
        n = len(split) // 6
        if n and split[2::6] == [name] * n:
            if jumps[0]:
                for i, column in enumerate(jumps):
                    column += split[i + 1 + (i > 0)::6]
            else:  # (the one service chain with jumps of most Services)
                jumps = [split[1::6], split[3::6], split[4::6], split[5::6]]
            seps.update(dict.fromkeys(split[5::6]))
            said = split[3::6]
            comments += [c or "" for c in said] if any(said) else [""] * n
            body = _JUMPED.join(split[0::6])
            parts.append(f"\nS {name} {body}")  # (S: jumps taken out; the newline in front is the first part's)
        else:
            parts.append(f"\nC {name} \n{body}")
        if "KUBE-SEP-" in body:
            seps.update(dict.fromkeys((_SEP if " -g " in body else _SEP_J).findall(body)))
    if any(comments):  # (masked in the text: they may name the Service and, since 1.24, the endpoint)
        parts.append("\nJ\n" + "\n".join(comments))
    return jumps


_SHIFT, _MASK = model._SPAN_SHIFT, model._SPAN_MASK
_BETWEEN = "\n\x03\n"  # (between two endpoint chains' lines: no rule line holds it)
_NO_CHAIN = "\x04"  # (an endpoint chain the input lacks)


def _shape(d: Any) -> tuple[Any, ...]:
    """What tells a Service's compiled templates apart before its text is read: its draft's counts and kinds."""
    return (d.legacy_colon, d.itp, d.etp, len(d.cluster_ips), len(d.external_ips), len(d.lb_ips),
            tuple([(k, f.hash is None, f.port is None, f.node_port is None, f.via_node_ports, len(f.chains))
                   for k, f in d.ports.items()]))


def _canonical_seps(hashes: list[str], text: str, runs: list[int]) -> list[Any] | None:
    """The endpoint chains, each read whole in place by _SEP_BODY, as its groups column by column; None
    unless every one is of kube-proxy's shape and named as the jump to it says."""
    match = _SEP_BODY.fullmatch
    found = [match(text, p >> _SHIFT, p & _MASK) for p in runs]
    if None in found:
        return None
    columns = list(map(list, zip(*map(_GROUPS, found), strict=True)))
    return columns if columns[1] == hashes else None


_GROUPS = operator.methodcaller("groups")


_OWN_NAME = operator.methodcaller("startswith", _OWN_PREFIXES)
_PREFIX_RANK = {prefix: i for i, prefix in enumerate(_OWN_PREFIXES)}


def _prefix_rank(chain: str) -> int:
    return _PREFIX_RANK.get(chain[:chain.index("-", 5) + 1], len(_PREFIX_RANK))


def _own_hash(chain: str) -> str | None:
    """The hash of a service port's own chain (KUBE-SVC-, -SVL-, -EXT-, -FW-, -XLB-), else None."""
    if chain.startswith(_OWN_PREFIXES):
        h = chain[chain.index("-", 5) + 1:]
        if len(h) == 16:
            return h
    return None


def _position(rule: Any) -> int:
    return rule.position


def _filter_index(rules: RuleSet) -> tuple[dict[str, list[Rule]], dict[tuple[str | None, int | None, str], list[Rule]]]:
    """The filter table's REJECT/DROP rules of KUBE-SERVICES and KUBE-EXTERNAL-SERVICES, by the
    service port their comment names and by (address or None for a node port, port, protocol)."""
    by_comment: dict[str, list[Rule]] = {}
    by_address: dict[tuple[str | None, int | None, str], list[Rule]] = {}
    for chain in ("KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"):
        for r in rules.rules_of("filter", chain):
            if r.target not in ("REJECT", "DROP"):
                continue
            if r.comment and " has no" in r.comment:
                by_comment.setdefault(r.comment.split(" has no")[0], []).append(r)
            dest = bare_address(r.dest_addr)
            if dest is not None or "addrtype" in r.matches:
                by_address.setdefault((dest, r.dport_number, (r.protocol or "")), []).append(r)
    return by_comment, by_address


def _values(fp: _Footprint, ref: str) -> _Values | None:
    """The footprint's template (its text without the values, and which value went where) and its values.

    Addresses, ports and chain hashes are numbered in the order they first appear: two Services
    share a template only when their values are equal in the same places (an address ending in
    .0 is told apart: the prefix check reads it)."""
    ips: dict[str, int] = {}
    ports: dict[str, int] = {}
    hashes: dict[str, int] = {}
    ip, port, hashed = ips.setdefault, ports.setdefault, hashes.setdefault
    # each value place takes the next number of its kind: a value first seen there gets it, one seen
    # before keeps its first place's (the same pattern of equal values gives the same numbers)
    n_ips, n_ports, n_hashes = itertools.count(), itertools.count(), itertools.count()
    parts = _COUNTERS.split(fp.text.replace(ref, "\x01"))
    counters = parts[1::2]
    parts = _HASHES.split("\x00".join(parts[0::2]))
    key: list[Any] = [tuple(parts[1::3]), tuple(map(hashed, parts[2::3], n_hashes))]
    text = "\x00".join(parts[0::3])
    for literal, pattern in _ADDRESSES:
        if literal not in text:  # (the pattern would split nothing off: no call, the same key)
            key.append(())
            continue
        parts = pattern.split(text)
        key.append(tuple(map(ip, parts[1::2], n_ips)))
        text = "\x00".join(parts[0::2])
    for literal, pattern in _ENDPOINTS:
        if literal not in text:
            key += ((), ())
            continue
        parts = pattern.split(text)
        key += (tuple(map(ip, parts[1::3], n_ips)), tuple(map(port, parts[2::3], n_ports)))
        text = "\x00".join(parts[0::3])
    parts = _PORTS.split(text)
    key.append(tuple(map(port, parts[1::2], n_ports)))
    seps_hs: Any = None
    if fp.seps:  # endpoint chains of kube-proxy's shape: column by column (their counters count in no row)
        p1s, seps_hs, ip1s, c1s, p2s, protos, c2s, affinities, ip2s, dnat_ports = fp.seps
        # (what kube-proxy always writes - the masquerade rule's source is the DNAT's address, the two rules'
        # comments alike, counters on every rule or none - stands in the key as one mark, not column by column)
        ip1s_key = tuple(map(ip, ip1s, n_ips))
        key += (_presence(p1s), _presence(p2s), tuple(protos), tuple(affinities),
                _comments(c1s, ref), True if c2s == c1s else _comments(c2s, ref),
                tuple(map(hashed, seps_hs, n_hashes)), ip1s_key,
                True if ip2s == ip1s else tuple(map(ip, ip2s, n_ips)), tuple(map(port, dnat_ports, n_ports)))
    if fp.jumps[0]:  # the service chains' jumps: counters' presence, comments' (in the text), probabilities, endpoints
        p1s, comments, probabilities, hs = fp.jumps
        key += (_presence(p1s), _presence(comments), tuple(probabilities),
                True if hs == seps_hs else tuple(map(hashed, hs, n_hashes)))
    if not fp.allowed.issuperset(hashes):
        return None  # a chain of another Service: its rules are not in the footprint
    key.append(tuple(map(str.endswith, ips, _DOT_ZERO)))
    return _Values(("\x00".join(parts[0::2]), tuple(key)), counters, list(ips), list(ports))


_DOT_ZERO = itertools.repeat(".0")  # (str.endswith's argument for each address: map() stops at the shortest)


def _presence(column: list[str | None]) -> Any:
    """Which places of a column hold a value: "all" or "none" when they all agree (the key holds the
    column's length elsewhere), else each place's."""
    if None not in column:
        return "all"
    if column.count(None) == len(column):
        return "none"
    return tuple([c is None for c in column])


def _comments(column: list[str | None], ref: str) -> tuple[str | None, ...] | str:
    """A column of comments with the Service's name masked ("none": no place holds one)."""
    if not any(column):
        return "none"
    return tuple([None if c is None else c.replace(ref, "\x01") for c in column])


def _recipe(report: Report, line: Any, fp: _Footprint, vals: _Values, d: Any) -> Any:
    """How to make a row of this template from the first Service's full analysis, or NOT_FAST."""
    row = line.row
    if row["NAMESPACE"] != d.namespace or row["NAME"] != d.name:
        return NOT_FAST
    cluster_ips = split_cell(row["CLUSTER-IP"], _IPV4, vals.ips)
    ports = split_cell(row["PORTS"], _DIGITS, vals.ports)
    pkts = _pkts(report, fp, vals)
    if cluster_ips is None or ports is None or pkts is NOT_FAST:
        return NOT_FAST
    return Recipe(line, cluster_ips, ports, pkts)


def _pkts(report: Report, fp: _Footprint, vals: _Values) -> Any:
    """Which counters of the footprint PKTS sums (each path's own: its entry rule's, or the filter
    rule's that proves where it ends), checked against the first Service's row."""
    index: dict[str, int] = {}
    for line in fp.text.split("\n"):
        if line.startswith("["):
            if line in index:
                return NOT_FAST  # the same line twice: which one a path counts cannot be told
            index[line] = len(index)
    filter_lines = set(fp.text[fp.filter_from:fp.filter_to].split("\n"))
    used: list[int] = []
    for pp in report.ports:
        for path in pp.paths:
            if path.packets is None:
                continue
            if not path.evidence:
                return NOT_FAST
            ev = path.evidence[0]
            if path.chains[:1] != ["filter"]:
                ev = next((e for e in reversed(path.evidence) if e.text in filter_lines), ev)
            if ev.text not in index:
                return NOT_FAST
            used.append(index[ev.text])
    shown = report_pkts(report)
    if shown is None:
        return None if not used else NOT_FAST
    if sum(int(vals.counters[i]) for i in used) != shown:
        return NOT_FAST
    return used


def report_pkts(report: Report) -> int | None:
    """What the PKTS cell sums: every path's packets, None when no path has counters."""
    pkts = [path.packets for p in report.ports for path in p.paths if path.packets is not None]
    return sum(pkts) if pkts else None


def _apply(recipe: Recipe, vals: _Values | audit_match.Matched, d: Any) -> Any:
    line = recipe.line
    row = dict(line.row)
    row["NAMESPACE"], row["NAME"] = d.namespace, d.name
    ips, ports = vals.ips, vals.ports
    row["CLUSTER-IP"] = "".join([p if isinstance(p, str) else ips[p] for p in recipe.cluster_ips])
    row["PORTS"] = "".join([p if isinstance(p, str) else ports[p] for p in recipe.ports])
    if recipe.pkts is not None:
        row["PKTS"] = str(sum([int(vals.counters[i]) for i in recipe.pkts]))
    # (render.audit.AuditLine's fields in order: dataclasses.replace() took a third of this function)
    return type(line)((line.key[0], d.namespace, d.name), row, line.ports, line.endpoints, line.bucket, line.unnamed,
                      line.portless, line.endpoints_unseen)


def templates_apply(rules: RuleSet | None, excerpt: bool) -> bool:
    """Whether the one pass may read these rules: a whole dump, read lazily, with a nat table, and no
    character the templates use as a mark (\\x00-\\x05: the Service's name masked, the places values
    were taken out of, the endpoint chains' joins) - a hostile comment holding one could make two
    footprints alike that are not."""
    if rules is None or excerpt or rules.excerpt or not rules.tables or rules.table("nat") is None:
        return False
    texts: dict[int, str] = {}
    for t in rules.tables.values():
        if not isinstance(t.chains, LazyChains):
            return False
        texts[id(t.chains.text)] = t.chains.text  # (the tables of one dump share its text: scanned once)
    # (six scans of a 35 MB dump at C speed: ~11 ms; a character class regex took ten times that)
    return not any(mark in text for text in texts.values() for mark in _MARKS)


_MARKS = "\x00\x01\x02\x03\x04\x05"


def fast_audit(rules: RuleSet | None, one: Callable[[Any], tuple[Any, Any]], excerpt: bool,
               keep: Callable[[str], bool]) -> Iterator[Any] | None:
    """The audit lines of every Service the rules list, or None when this input needs the full analysis each."""
    if rules is None or not templates_apply(rules, excerpt):
        return None
    return FastAudit(rules, one).lines(keep)

"""``--all`` over a whole kube-proxy nftables table, as a table: each Service's row without its full analysis.

The full analysis of 10,000 Services reads ~41,000 chains through the statement reader (text) or
the JSON decoder and runs correlate, expected and diagnose 10,000 times. Most Services of a node
are alike: the same map elements and chains but for their names, addresses, ports and hashes.
Here each Service's footprint - everything its analysis reads: what the maps say about each port
(the pass over the maps all Services share), the elements correlate looks up by address and port,
and the text of every chain those lead to (transitively, with the sets they name) - is turned into
a template by taking those values out (loopback, 0.0.0.0 and 255.x addresses stay, and an
address ending in .0 is told apart; an address or port the analysis does not read as written -
port 0, a leading zero, past 255 or 65535 - takes the full analysis). The first Service of each template gets the full analysis;
every later one gets that row with its own values put back: the same template means the same
rules up to a renaming of values the analysis only compares for equality. Anything a template
cannot vouch for (a chain named after another Service, a hash that is not the one of its name, a
chain not read from the dump's text, an excerpt, conntrack counts) gets the full analysis. With an
ip6 table, IPv6 addresses are taken out too (as nft writes them, and as endpoint chain names do).
tests/unit/modes/nftables/test_audit_onepass.py holds the rows to the full analysis', and
tests/fuzz/onepass.py on mutated inputs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from kubectl_svcpath.modes.nftables import correlate as nc
from kubectl_svcpath.modes.nftables.model import LazyChains, NftRuleset, NftSet, NftTable, Verdict
from kubectl_svcpath.modes.templates import NOT_FAST, Recipe, TemplateRows, split_cell

_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9.-]*")
# a per-service chain (or affinity set) name: kind, hash, the text the hash is of
_NAMED = re.compile(r"(service|local|external|firewall|endpoint|affinity)-([A-Z2-7]{8})-(.+)")
_OWN_HASH = re.compile(r"-([A-Z2-7]{8})-(?=\x01)")  # (after the Service's namespace/name became \x01)
# an address: kept as it is when loopback, 0.x or 255.x (checks may read those), else numbered
_HOST = re.compile(r"([0-9][0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?![\w.])")
_KEPT = ("127.", "0.", "255.", "::", "fe80:")
# with an ip6 table: an IPv6 address (two colons or more), and as an endpoint chain's name writes it (":" as ".")
_HOST6 = re.compile(r"(?<![\w:.])([0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})(?![\w:.])")
_NAME_HOST6 = re.compile(r"(?<=__)([0-9a-f]{0,4}(?:\.[0-9a-f]{0,4}){2,7})(?=/)")
_BAD_OCTET = re.compile(r"[3-9]\d\d|2[6-9]\d|25[6-9]|(?<!\d)0\d")  # (in octets of at most 3 digits: past 255, or a leading zero)
# a port, where text, JSON (nft -j, or json.dumps of a made chain's statements; _text spells those
# "\x04port " and "\x04dport ") and the footprint's own lines write one, after the addresses became
# \x02: "dport 80", "dnat to ADDRESS:PORT", an endpoint chain's "__ADDRESS/PORT"
_PORT = re.compile(r'(dport |\x04port |\x02:|\[\x02\]:|__\x02/)(\d{1,5})(?!\d)')
_JSON_PORT, _JSON_DPORT = '"port": ', '"field": "dport"}}, "right": '
_MARKS = "\x00\x01\x02\x03\x04"
# what no analysis reads: handles (text "# handle N", JSON "handle": N) and rule counters (nftables
# paths count connections from conntrack only; an audit with conntrack takes the full analysis)
_TEXT_NOISE = re.compile(r"# handle \d+|counter packets \d+ bytes \d+")
_JSON_RULE_HEAD = re.compile(r'\{"rule": \{"family": "[^"]*", "table": "[^"]*", "chain": "[^"]*", ')
_JSON_HANDLE = re.compile(r'"handle": \d+')
_JSON_COUNTER = re.compile(r'"counter": \{"packets": \d+, "bytes": \d+\}')
_TEXT_REFS = re.compile(r'(?:goto|jump) ([^\s,{}"]+)')
_JSON_REFS = re.compile(r'"target": "([^"]+)"')
_SET_REFS = re.compile(r'@([^\s,{}"]+)')
_ADDRESS = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7})")  # (in the CLUSTER-IP cell)
_DIGITS = re.compile(r"(\d+)")


@dataclass(slots=True)
class _Values:
    key: tuple[Any, ...]
    ips: list[str]
    ports: list[str]


class FastAudit:
    """Rows of a whole table's Services: templates first seen get ``one`` (the full analysis)."""

    def __init__(self, nft: NftRuleset, tables: list[NftTable], one: Callable[[Any], tuple[Any, Any]]) -> None:
        self.nft, self.tables, self.one = nft, tables, one
        self.rows = TemplateRows()
        # the text and jumps of chains no Service owns (reject-chain, mark-for-masquerade), by table and name
        self.shared: dict[tuple[str, str], tuple[str, list[str]]] = {}
        self.maps = {t.family: [t.set(m) for m in (nc.FIREWALL_IPS, nc.SERVICE_IPS, nc.NO_ENDPOINT_SERVICES,
                                                   nc.SERVICE_NODEPORTS, nc.NO_ENDPOINT_NODEPORTS)] for t in tables}
        self.json_form = any(_chains(t).text_json for t in tables)
        self.v6 = any(t.family == "ip6" for t in tables)  # IPv6 addresses to take out too

    def lines(self, keep: Callable[[str], bool]) -> Iterator[Any]:
        facts = nc._Facts(None)
        for table in self.tables:
            facts.read_table(table)
        for key in sorted(facts.services):
            ports = facts.services.pop(key)
            if keep(key[0]):
                yield self.line(key[0], key[1], ports)

    def line(self, ns: str, name: str, ports: dict[tuple[str, str], Any]) -> Any:
        vals = None
        if _PLAIN_NAME.fullmatch(ns) and _PLAIN_NAME.fullmatch(name):
            text = self._footprint(ns, name, ports)
            vals = _values(text, f"{ns}/{name}", self.json_form, self.v6) if text is not None else None
        if vals is None:
            return self._analyse(ns, name, ports)[1]
        return self.rows.line(vals.key, lambda recipe: _apply(recipe, vals, ns, name), lambda: self._analyse(ns, name, ports),
                              lambda _report, line: _recipe(line, vals, ns, name))

    def _analyse(self, ns: str, name: str, ports: dict[tuple[str, str], Any]) -> tuple[Any, Any]:
        out = self.one(nc._inferred_service(ns, name, ports))
        for table in self.tables:  # that Service's chains need not stay
            table.release()
        return out

    def _footprint(self, ns: str, name: str, ports: dict[tuple[str, str], Any]) -> str | None:
        """The Service's facts, lookups and chains as text, or None when they hold what a template cannot vouch for."""
        order = sorted(ports.items(), key=lambda kv: (kv[1].port or 0, kv[0]))  # as the snapshot lists them
        out: list[str] = []
        ips: dict[str, list[str]] = {"c": [], "x": [], "l": [], "o": []}
        todo: list[str] = []
        own: set[str] = set()  # the per-service chain names correlate works out from the Service
        for (pname, proto), f in order:
            targets = [t for _, _, t in f.chains]
            base = _hashed(f"{ns}/{name}/{proto}/{pname}")
            svc, svl = f"service-{base}", f"local-{base}"
            own.update((svc, svl, f"external-{base}", f"firewall-{base}"))
            out.append(f"P {pname} {proto} dport {f.port} dport {f.node_port} {f.itp_local} {f.etp_local} {f.policy_unknown} {f.itp_seen} {f.etp_seen} {f.affinity_timeout} "
                       f"{f.source_ranges} {[(t.family, c) for _, t, c in f.chains]} "
                       f"{any(svc in t.chains for t in self.tables)} {any(svl in t.chains for t in self.tables)}")
            todo += targets
            for k, got in (("c", f.cluster_ips), ("x", f.external_ips), ("l", f.lb_ips), ("o", f.other_ips)):
                ips[k] += [a for a in got if a not in ips[k]]
        known = set(ips["c"] + ips["x"] + ips["l"])  # (as the snapshot keeps them)
        ips["o"] = [a for a in ips["o"] if a not in known]
        out.append(f"A {ips['c']} {ips['x']} {ips['l']} {ips['o']}")
        for (_, proto), f in order:  # the elements correlate looks up, in its order (their keys: the lines above)
            for kind, addresses in (("c", ips["c"]), ("x", ips["x"]), ("l", ips["l"]), ("o", ips["o"])):
                for a in addresses:
                    maps = self.maps.get("ip6" if nc.is_ipv6(a) else "ip")
                    if maps is None:
                        out.append("L no table")
                        continue
                    key = (a, proto, f.port or 0)  # (the snapshot's port: 0 when no element showed it)
                    if kind == "l":
                        _lookup(out, todo, maps[0], key)
                    _lookup(out, todo, maps[1], key)
                    _lookup(out, todo, maps[2], key)
            if f.node_port:
                for maps in self.maps.values():
                    _lookup(out, todo, maps[3], (proto, f.node_port))
                    _lookup(out, todo, maps[4], (proto, f.node_port))
        named = self._chains(out, todo)
        if named is None or not all(_vouched(n, f"{ns}/{name}/", own) for n in named):
            return None
        return "\n".join(out)

    def _chains(self, out: list[str], todo: list[str]) -> list[str] | None:
        """Every chain reached from ``todo``, each once, in every table (correlate looks a policy chain's
        affinity sets up in each), and the sets they name; the per-service names among them (None when
        a chain was not read from the text)."""
        seen: dict[str, None] = {}
        sets: dict[str, None] = {}
        while todo:
            name = todo.pop()
            if not isinstance(name, str):
                return None  # a verdict's target in nft -j may be any JSON: the full analysis says what it makes of it
            if name in seen:
                continue
            seen[name] = None
            for table in self.tables:
                got = self._text(table, name)
                if got is None:
                    return None
                text, refs = got
                out.append(text if (table.family, name) not in self.shared else f"C {name}")  # (the same for every Service)
                if "@" in text:
                    sets.update(dict.fromkeys(_SET_REFS.findall(text)))
                todo += refs
        for s in sets:
            out += [f"S {s} {_set_text(t.set(s))}" for t in self.tables]
        return [n for n in [*seen, *sets] if _NAMED.match(n) is not None]

    def _text(self, table: NftTable, name: str) -> tuple[str, list[str]] | None:
        """A chain's text as the dump holds it (a line saying so when there is no such chain), and the
        chains it jumps to; None when a template cannot vouch for it."""
        shared = self.shared.get((table.family, name))
        if shared is not None:
            return shared
        chains = _chains(table)
        where = chains.where(name)
        if name not in chains:
            text, is_json = f"C {name} -", False
        elif where is not None and chains.text_of is not None and chains.made(name) is None:
            text, is_json = chains.text_of(where), chains.text_json  # (a text block starts "chain NAME {")
            if is_json:
                text = f"C {name}\n{text}"
        else:  # made (or set directly): its statements as nft -j writes them
            chain = chains[name]
            text = json.dumps([name, chain.type, chain.hook, chain.prio, chain.policy, chain.declared,
                               [[r.exprs, r.comment] for r in chain.rules]])
            is_json = True
        if is_json:
            refs = _JSON_REFS.findall(text)
            if len(refs) != text.count('"target"'):
                return None
        else:
            refs = _TEXT_REFS.findall(text)
            if len(refs) != text.count("goto ") + text.count("jump "):
                return None  # a jump this reading would not follow (a quoted name, the word in a comment)
        got = (text, refs)
        if _NAMED.match(name) is None:  # a chain no Service owns (mark-for-masquerade, reject-chain)
            self.shared[(table.family, name)] = got
        return got


def _chains(table: NftTable) -> LazyChains:
    assert isinstance(table.chains, LazyChains)
    return table.chains


def _vouched(name: str, ref: str, own: set[str]) -> bool:
    """A per-service name in a Service's footprint is its own: a chain correlate names after it, or an
    endpoint chain (affinity set) named after it. (An endpoint chain's hash is numbered with the others but
    not checked: the analysis of a Service read from the rules takes its endpoints from the chains it
    reaches, and matches them by address too; nothing works their names out.)"""
    m = _NAMED.fullmatch(name)
    if m is None:
        return True  # no Service's: as it is written, in the template
    if m.group(1) not in ("endpoint", "affinity"):
        return name in own
    return m.group(3).startswith(ref)


_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]


def _b32_hash(text: str) -> str:
    """kubeproxy's 8-character hash of ``text`` (base32 of the first 5 bytes of its SHA-256), without base64's loop."""
    n = int.from_bytes(hashlib.sha256(text.encode()).digest()[:5], "big")
    return _B32_PAIRS[n >> 30] + _B32_PAIRS[n >> 20 & 1023] + _B32_PAIRS[n >> 10 & 1023] + _B32_PAIRS[n & 1023]


def _lookup(out: list[str], todo: list[str], m: NftSet | None, key: tuple[Any, ...]) -> None:
    """The element of map ``m`` correlate finds for ``key`` (an element's key holds the same values)."""
    e = m.lookup_key(key) if m is not None else None
    if e is None:
        out.append("L -")
        return
    value = e.value
    if isinstance(value, Verdict):
        if value.target:
            todo.append(value.target)
        out.append(f"L {value} {e.comment!r}" if e.timeout is None and e.expires is None else
                   f"L {value} {e.comment!r} {e.timeout} {e.expires}")
    else:
        out.append(f"L {value!r} {e.comment!r} {e.timeout} {e.expires}")


def _hashed(tail: str) -> str:
    """kubeproxy._hash_and_truncate(tail)."""
    full = f"{_b32_hash(tail)}-{tail}"
    return full if len(full) <= 240 else full[:237] + "..."


def _set_text(s: NftSet | None) -> str:
    return "-" if s is None else f"{s.kind} {s.type} {s.map_type} {s.flags} {s.timeout}"


def _values(text: str, ref: str, json_form: bool, v6: bool = False) -> _Values | None:
    """The footprint's template (its text without the values, and which value went where) and its values.

    Addresses, ports and hashes are numbered in the order they first appear: two Services share a
    template only when their values are equal in the same places."""
    ips: dict[str, int] = {}
    ports: dict[str, int] = {}
    hashes: dict[str, int] = {}
    ip, port, hashed = ips.setdefault, ports.setdefault, hashes.setdefault
    if "\\" in text or any(c in text for c in _MARKS):
        return None  # an escaped name (whose jumps this reading would not follow), or the masks' own marks
    if json_form:  # nft -j: each rule's family, table and chain said once, by the chain; ports spelled as in text
        text = _JSON_HANDLE.sub("", _JSON_RULE_HEAD.sub("{R ", text).replace(_JSON_DPORT, "\x04dport ")
                                .replace(_JSON_PORT, "\x04port "))
        if '"counter"' in text:
            text = _JSON_COUNTER.sub("", text)
    if "# handle" in text or "counter packets" in text:
        text = _TEXT_NOISE.sub("", text)
    text = text.replace(ref, "\x01")
    parts = _OWN_HASH.split(text)
    key: list[Any] = [tuple([hashed(h, len(hashes)) for h in parts[1::2]])]
    text = "-\x00-".join(parts[0::2])
    for pattern in (_HOST, _NAME_HOST6, _HOST6) if v6 else (_HOST,):
        parts = pattern.split(text)
        key.append(tuple([a if a.startswith(_KEPT) else ip(a, len(ips)) for a in parts[1::2]]))
        text = "\x02".join(parts[0::2])
    parts = _PORT.split(text)
    key.append(tuple([port(p, len(ports)) for p in parts[2::3]]))
    parts[2::3] = ["\x03"] * (len(parts) // 3)
    if _BAD_OCTET.search(" ".join(a for a in ips if ":" not in a and ".." not in a)) or \
            any(p[0] == "0" or int(p) > 65535 for p in ports):
        return None  # not an address or a port as the analysis reads one (0 reads as no port): the full analysis
    key.append(tuple([a.endswith(".0") for a in ips]))
    return _Values(("".join(parts), *key), list(ips), list(ports))


def _recipe(line: Any, vals: _Values, ns: str, name: str) -> Any:
    """How to make a row of this template from the first Service's full analysis, or NOT_FAST."""
    row = line.row
    if row["NAMESPACE"] != ns or row["NAME"] != name or row["PKTS"] != "-":
        return NOT_FAST
    cluster_ips = split_cell(row["CLUSTER-IP"], _ADDRESS, vals.ips)
    ports = split_cell(row["PORTS"], _DIGITS, vals.ports)
    if cluster_ips is None or ports is None:
        return NOT_FAST
    return Recipe(line, cluster_ips, ports)


def _apply(recipe: Recipe, vals: _Values, ns: str, name: str) -> Any:
    line = recipe.line
    row = dict(line.row)
    row["NAMESPACE"], row["NAME"] = ns, name
    row["CLUSTER-IP"] = "".join(p if isinstance(p, str) else vals.ips[p] for p in recipe.cluster_ips)
    row["PORTS"] = "".join(p if isinstance(p, str) else vals.ports[p] for p in recipe.ports)
    return replace(line, key=(line.key[0], ns, name), row=row)


def fast_audit(nft: NftRuleset | None, one: Callable[[Any], tuple[Any, Any]], keep: Callable[[str], bool]) -> Iterator[Any] | None:
    """The audit lines of every Service kube-proxy's tables list, or None when this input needs the full analysis each."""
    if nft is None:
        return None
    tables = nft.kube_proxy_tables()
    if not tables or not all(isinstance(t.chains, LazyChains) for t in tables):
        return None
    return FastAudit(nft, tables, one).lines(keep)

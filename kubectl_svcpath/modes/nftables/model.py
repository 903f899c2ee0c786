"""The nftables rule model: NftRuleset > NftTable > chains, sets and maps, with provenance.

Both readers build it: ``parse_json.py`` from ``nft -j list …`` and ``parse_text.py``
from ``nft list …`` or the ``add table/chain/rule/element`` transaction text. A rule keeps its
statements as libnftables JSON expressions (schema v1, the ``expr`` list of a ``rule`` object);
the text reader writes the same shapes, so everything after parsing reads one form.

It holds kube-proxy's own table (``table ip kube-proxy``, nftables mode) and iptables-nft's
kernel view (``table ip nat`` with ``xt`` blobs, counters and native ``tcp dport`` matches):
``rule_summary`` reads the facts the iptables-version-skew check needs from the latter.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

_T = TypeVar("_T")

FAMILIES = ("ip", "ip6", "inet", "arp", "bridge", "netdev")
PROTO_NUMBERS = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp"}
VERDICTS = ("accept", "drop", "continue", "return", "jump", "goto", "queue")


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str  # "goto" | "jump" | "drop" | "accept" | "return" | "continue" | "queue"
    target: str | None = None  # chain name for goto/jump

    def __str__(self) -> str:
        return f"{self.kind} {self.target}" if self.target else self.kind


@dataclass(slots=True)
class Loc:
    """Where an object came from: a text line, or a JSON pointer into ``nft -j`` output."""

    source: str
    line_no: int | None = None
    path: str | tuple[Any, ...] | None = None  # JSON: "/nftables/7/map/elem/3", or (7, "map", "elem", 3)

    @property
    def pointer(self) -> str | None:
        """The JSON pointer of the object in ``nft -j`` output (built when asked: 100k objects)."""
        p = self.path
        if p is None or isinstance(p, str):
            return p
        return "/nftables/" + "/".join(map(str, p))

    @property
    def ref(self) -> str:
        if self.line_no:
            return f"{self.source}:{self.line_no}"
        if self.pointer:
            return f"{self.source}#{self.pointer}"
        return self.source


@dataclass(slots=True)
class NftElement:
    key: tuple[Any, ...]  # normalised: addresses as compressed strings, l4 protocols as names, ports as ints
    value: Verdict | Any | None = None  # maps only: a Verdict for verdict maps
    comment: str | None = None
    timeout: int | None = None  # seconds
    expires: int | None = None  # seconds
    loc: Loc | None = None
    text: str | None = None  # as printed (text form); None: render when asked

    @property
    def raw(self) -> str:
        if self.text is None:
            self.text = render_element(self)
        return self.text


@dataclass(slots=True)
class NftSet:
    """A named set or map (``kind`` tells which)."""

    name: str
    kind: str = "set"  # "set" | "map"
    type: tuple[str, ...] = ()  # ("ipv4_addr", "inet_proto", "inet_service")
    map_type: str | None = None  # "verdict" for verdict maps
    flags: tuple[str, ...] = ()
    timeout: int | None = None  # seconds (affinity sets)
    size: int | None = None
    comment: str | None = None
    elements: list[NftElement] = field(default_factory=list)
    loc: Loc | None = None
    handle: int | None = None
    _index: dict[tuple[Any, ...], NftElement] | None = field(default=None, repr=False)

    def add(self, element: NftElement) -> None:
        self.elements.append(element)
        if self._index is not None:
            self._index.setdefault(element.key, element)

    def lookup(self, *key: Any) -> NftElement | None:
        """The element with this key (values normalised as the parser does)."""
        if self._index is None:
            self._index = {}
            for element in self.elements:
                self._index.setdefault(element.key, element)
        return self._index.get(tuple(normalize_key_part(k) for k in key))

    def lookup_key(self, key: tuple[Any, ...]) -> NftElement | None:
        """``lookup`` of a key already normalised (as the parser's elements hold it)."""
        if self._index is None:
            self.lookup()
        assert self._index is not None
        return self._index.get(key)

    def remove(self, key: tuple[Any, ...]) -> None:
        self.elements = [e for e in self.elements if e.key != key]
        self._index = None

    def clear(self) -> None:
        """``flush set|map``: no elements left."""
        self.elements.clear()
        self._index = None


@dataclass(slots=True)
class NftRule:
    family: str
    table: str
    chain: str
    position: int  # 1-based, in the order the kernel evaluates the chain
    exprs: list[dict[str, Any]]  # libnftables JSON statements
    comment: str | None = None
    handle: int | None = None
    loc: Loc | None = None
    text: str | None = None  # the statements as read (text form); None: render from exprs when asked

    @property
    def raw(self) -> str:
        """The rule in nft's words: as read, or rendered from JSON (lazily: big tables have 100k rules)."""
        if self.text is None:
            self.text = render_rule(self)
        return self.text

    @property
    def counter(self) -> tuple[int, int] | None:
        for e in self.exprs:
            c = e.get("counter")
            if isinstance(c, dict) and "packets" in c:
                packets, nbytes = to_int(c["packets"]), to_int(c.get("bytes", 0))
                if packets is None or nbytes is None:  # read lazily: the JSON reader does not walk 100k rules' statements
                    from kubectl_svcpath.errors import BadDump

                    where = self.loc.pointer if self.loc and self.loc.pointer else f"chain {self.chain} rule {self.position}"
                    raise BadDump(self.loc.source if self.loc else "nft", f"{where}: a counter whose packets or bytes are not a number",
                                  hint="pass the complete output of `nft -j list table …`")
                return packets, nbytes
        return None

    @property
    def verdict(self) -> Verdict | None:
        """The rule's final plain verdict (jump/goto/drop/…), None for vmaps and NAT statements."""
        for e in reversed(self.exprs):
            v = verdict_of(e)
            if v is not None:
                return v
        return None

    def matches(self) -> list[Match]:
        return [m for m in (match_of(e) for e in self.exprs) if m is not None]

    def find(self, key: str) -> dict[str, Any] | None:
        """The first statement of a kind: ``rule.find("dnat")`` -> ``{"addr": …, "port": …}``."""
        for e in self.exprs:
            if key in e:
                return e[key]
        return None


@dataclass(slots=True)
class NftChain:
    name: str
    type: str | None = None  # "nat" | "filter" for base chains
    hook: str | None = None
    prio: int | str | None = None  # an int, or a name nft printed ("dstnat - 10")
    policy: str | None = None
    comment: str | None = None
    handle: int | None = None
    rules: list[NftRule] = field(default_factory=list)
    declared: bool = True  # False: only seen in rules (a transaction without "add chain")
    loc: Loc | None = None
    memo: dict[str, Any] | None = field(default=None, repr=False, compare=False)  # facts read off the rules

    def once(self, key: str, compute: Callable[[NftChain], _T]) -> _T:
        """``compute(self)``, kept with the chain: one Service's inference and correlation both read it."""
        memo = self.memo
        if memo is None:
            memo = self.memo = {}
        if key not in memo:
            memo[key] = compute(self)
        return memo[key]


class LazyChains(MutableMapping[str, NftChain]):
    """A table's chains by name, each read from the dump when first looked up.

    A 10,000-Service table has ~41,000 chains and one Service's analysis reads a dozen: the reader
    records where each chain's objects are (``where``, opaque to this class) and ``make`` builds
    the chain from them when asked; iteration makes them all. ``release()`` forgets the chains
    made so far (an --all audit, once a Service is done); they are made again if asked again.
    """

    __slots__ = ("_made", "_where", "_make", "_set", "hooked", "counted", "text_of", "text_json")

    def __init__(self, make: Callable[[str, Any], NftChain]) -> None:
        self._made: dict[str, NftChain] = {}
        self._where: dict[str, Any] = {}  # insertion order = the order the dump first names each chain
        self._make = make
        self._set = False  # a chain was set directly (a merge), not made from the dump
        self.hooked: list[str] = []  # base chains (a declaration with a hook), for what starts at the hooks
        self.counted = False  # some rule carries a counter (found while indexing)
        # a chain's text in the dump from its place, unread (the --all audit's templates: modes/nftables/audit.py)
        self.text_of: Callable[[Any], str] | None = None
        self.text_json = False  # that text is nft -j's

    @classmethod
    def holding(cls, chains: Mapping[str, NftChain], make: Callable[[str, Any], NftChain],
                text_of: Callable[[Any], str], text_json: bool = False) -> LazyChains:
        """A table's chains from here on made from the dump's places (a reader's ``make`` and ``text_of``),
        keeping those it holds already (read from a command before the listing: set, not made)."""
        lazy = cls(make)
        lazy.text_of, lazy.text_json = text_of, text_json
        for name, chain in chains.items():
            lazy[name] = chain
        return lazy

    def any_counted(self) -> bool:
        """Some rule carries a counter: found while indexing, or in a chain set directly (a merge)."""
        return self.counted or any(r.counter is not None for n, c in self._made.items()
                                   if self._where.get(n) is None for r in c.rules)

    def made(self, name: str) -> NftChain | None:
        """The chain if it was made already (or set), without making it."""
        return self._made.get(name)

    def pin(self) -> None:
        """Keep the chains made so far for good (a command changed them after they were read)."""
        for name in self._made:
            self._where[name] = None
        self._set = self._set or bool(self._made)

    def index(self, name: str, where: Any) -> None:
        self._where[name] = where

    def where(self, name: str) -> Any:
        return self._where.get(name)

    def release(self) -> None:
        """Forget the chains made from the dump (not those set directly: they could not be made again)."""
        if self._made:
            self._made = {n: c for n, c in self._made.items() if self._where.get(n) is None} if self._set else {}

    def __getitem__(self, name: str) -> NftChain:
        chain = self._made.get(name)
        if chain is None:
            where = self._where.get(name)
            if where is None:
                raise KeyError(name)
            chain = self._made[name] = self._make(name, where)
        return chain

    def get(self, name: str, default: NftChain | None = None) -> NftChain | None:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        return name in self._made or name in self._where

    def __setitem__(self, name: str, chain: NftChain) -> None:
        if name not in self._where:
            self._where[name] = None
        self._made[name] = chain
        self._set = True

    def __delitem__(self, name: str) -> None:
        del self._where[name]
        self._made.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


@dataclass(slots=True)
class NftTable:
    family: str
    name: str
    comment: str | None = None
    handle: int | None = None
    chains: MutableMapping[str, NftChain] = field(default_factory=dict)
    sets: dict[str, NftSet] = field(default_factory=dict)  # sets and maps share one namespace in nft
    loc: Loc | None = None
    # where the author cut the listing ("..."; modes/nftables/cuts.py): inside a Service's chain, or between blocks
    cut_chains: dict[str, list[int]] = field(default_factory=dict)
    cut_between: list[int] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"{self.family} {self.name}"

    def chain(self, name: str) -> NftChain | None:
        return self.chains.get(name)

    def ensure_chain(self, name: str) -> NftChain:
        chain = self.chains.get(name)
        if chain is None:
            chain = self.chains[name] = NftChain(name, declared=False)
        return chain

    def declare_chain(self, name: str, loc: Loc) -> NftChain:
        """The chain a ``chain`` object or block declares (its rules may have come first); the first
        declaration is where it is said to be."""
        chain = self.chains.get(name)
        if chain is None:
            chain = self.chains[name] = NftChain(name)
        chain.declared = True
        chain.loc = chain.loc or loc
        return chain

    def set(self, name: str) -> NftSet | None:
        return self.sets.get(name.lstrip("@"))

    def rules(self) -> Iterator[NftRule]:
        for chain in self.chains.values():
            yield from chain.rules

    def base_chains(self) -> list[NftChain]:
        """The chains with a hook (where packets enter), without reading every chain of a lazy table."""
        chains = self.chains
        if isinstance(chains, LazyChains):
            return [chains[n] for n in chains.hooked if n in chains]
        return [c for c in chains.values() if c.hook]

    @property
    def has_counted_rules(self) -> bool:
        """Some rule carries a counter (kube-proxy writes none in nftables mode)."""
        if isinstance(self.chains, LazyChains):
            return self.chains.any_counted()
        return any(r.counter is not None for r in self.rules())

    def release(self) -> None:
        """Forget the chains read from the dump so far (read again if asked again)."""
        if isinstance(self.chains, LazyChains):
            self.chains.release()


@dataclass(slots=True)
class NftDumpInfo:
    source: str
    form: str  # "nft-json" | "nft-text" | "nft-transaction"
    nft_version: str | None = None  # from the JSON metainfo
    json_schema_version: int | None = None
    has_counters: bool = False
    notices: list[str] = field(default_factory=list)  # "# Warning: table ip nat is managed by iptables-nft …"
    # chains listed more than once with other rules (two listings pasted together): (table, chain, each listing's line)
    relisted: list[tuple[str, str, list[int]]] = field(default_factory=list)
    excerpt: bool = False  # the author cut the listing ("..."): no chain of it is known whole


@dataclass(slots=True)
class NftRuleset:
    tables: dict[tuple[str, str], NftTable] = field(default_factory=dict)
    dumps: list[NftDumpInfo] = field(default_factory=list)
    # cuts ("...") in a table that holds nothing of kube-proxy's (firewalld's, docker's): (line, table) (cuts.py)
    cut_elsewhere: list[tuple[int, str]] = field(default_factory=list)
    _once: dict[str, Any] = field(default_factory=dict, repr=False)

    def once(self, key: str, compute: Callable[[NftRuleset], _T]) -> _T:
        """``compute(self)``, worked out on the first call for ``key`` and kept (a fact about the whole
        input, asked once per Service by an --all audit); a merge forgets it."""
        if key not in self._once:
            self._once[key] = compute(self)
        return self._once[key]

    def table(self, family: str, name: str) -> NftTable | None:
        return self.tables.get((family, name))

    def ensure_table(self, family: str, name: str) -> NftTable:
        table = self.tables.get((family, name))
        if table is None:
            table = self.tables[(family, name)] = NftTable(family, name)
        return table

    def kube_proxy_tables(self) -> list[NftTable]:
        """kube-proxy's nftables-mode tables (``ip``/``ip6 kube-proxy``), IPv4 first."""
        return [t for key in (("ip", "kube-proxy"), ("ip6", "kube-proxy")) if (t := self.tables.get(key))]

    @property
    def has_counters(self) -> bool:
        return any(d.has_counters for d in self.dumps)

    def dangling(self) -> list[str]:
        """Why kube-proxy's table here is not whole, in words: a top-level chain names a set, map or chain
        the input does not hold (nft loads no such table), or the map is there without the chain that
        looks it up. Such a listing was cut by whoever pasted it, even when its braces close."""
        return [text for _, text in self.once("dangling", _dangling)]

    def shown_in_part(self) -> bool:
        """The input shows kube-proxy's table in part, for every Service: ``dangling``, save a chain the listing names
        but does not show where the author's cut between blocks explains it (modes/nftables/cuts.py); a set or
        map it names and does not show leaves the ways in it held unknown."""
        if any(not (chain and (table.cut_between or table.cut_chains))
               for chain, _, table in self.once("dangling-items", _dangling_items)):
            return True
        # (cut between blocks, the table without one of kube-proxy's maps: its elements may be in what was cut)
        return any((t.cut_between or t.cut_chains) and any(t.set(m) is None for m in _KUBE_PROXY_MAPS)
                   for t in self.kube_proxy_tables())

    def merge(self, other: NftRuleset) -> None:
        """Add another dump's tables (ip and ip6 listed into two files); the first copy of a table, chain or
        set wins, and a chain or set only the other dump lists is added (``nft list chain`` one file per chain)."""
        for key, table in other.tables.items():
            mine = self.tables.setdefault(key, table)
            if mine is not table:
                for name, chain in table.chains.items():
                    mine.chains.setdefault(name, chain)
                for name, s in table.sets.items():
                    mine.sets.setdefault(name, s)
        self.dumps.extend(other.dumps)
        self._once.clear()


# the maps that name each Service's ways in (kube-proxy's nftables mode, 1.31+): with the listing cut, all must be there
_KUBE_PROXY_MAPS = ("service-ips", "service-nodeports", "no-endpoint-services", "no-endpoint-nodeports", "firewall-ips")

# kube-proxy's fixed chains (every release): few, so checking their references costs nothing on a big table
_TOP_CHAINS = ("nat-prerouting", "nat-output", "nat-postrouting", "filter-prerouting", "filter-prerouting-pre-dnat",
               "filter-input", "filter-forward", "filter-output", "filter-output-pre-dnat", "services", "masquerading",
               "firewall-check", "service-endpoints-check", "nodeport-endpoints-check", "endpoints-check",
               "cluster-ips-check")


def _dangling(nft: NftRuleset) -> list[tuple[bool, str]]:
    """(a chain, not a set or map, is what is not shown; in words) for each thing ``dangling`` says."""
    return [(chain, text) for chain, text, _ in nft.once("dangling-items", _dangling_items)]


def _dangling_items(nft: NftRuleset) -> list[tuple[bool, str, NftTable]]:
    out: list[tuple[bool, str, NftTable]] = []
    for table in nft.kube_proxy_tables():
        if "services" not in table.chains and (table.sets or table.chains):  # the chain that looks service-ips up
            out.append((True, f"no chain services ({table.ref}), which kube-proxy always writes", table))
        for name in _TOP_CHAINS:
            chain = table.chains.get(name)
            for rule in chain.rules if chain is not None else ():
                for ref in _references(rule.exprs):
                    if ref.startswith("@") and table.set(ref) is None:
                        item = (False, f"{name} names {ref} ({table.ref}), which it does not hold", table)
                    elif not ref.startswith("@") and ref not in table.chains:
                        item = (True, f"{name} jumps to chain {ref} ({table.ref}), which it does not hold", table)
                    else:
                        continue
                    if item not in out:
                        out.append(item)
    return out


def references(value: Any) -> Iterator[str]:
    """Set and map names ("@x") and jump/goto targets anywhere in a rule's JSON statements."""
    return _references(value)


def _references(value: Any) -> Iterator[str]:
    """Set and map names ("@x") and jump/goto targets anywhere in a rule's JSON statements."""
    if isinstance(value, str):
        if value.startswith("@"):
            yield value
    elif isinstance(value, list):
        for x in value:
            yield from _references(x)
    elif isinstance(value, dict):
        for k, v in value.items():
            if k in ("jump", "goto") and isinstance(v, dict) and isinstance(v.get("target"), str):
                yield v["target"]
            else:
                yield from _references(v)


# --- reading expressions -----------------------------------------------------------


class Match(NamedTuple):
    """One ``match`` statement, flattened: ``ip daddr != 10.0.0.0/8`` -> ("ip daddr", "!=", "10.0.0.0/8")."""

    left: str  # "ip daddr", "tcp dport", "meta l4proto", "meta mark", "ct state", "fib saddr type", …
    op: str  # "==", "!=", "in", "<", …
    right: Any  # str / int / "a/len" / "lo-hi" / "@set" / list for anonymous sets
    mask: int | None = None  # "meta mark & 0x4000 == …"


def jump_target(body: Any) -> str | None:
    """The chain a jump or goto statement's body names (nft's ``{"target": NAME}``); None for a body of
    another shape: a target that is no chain name (a list, an object) is as unknown as a missing one."""
    target = body.get("target") if isinstance(body, dict) else None
    return target if isinstance(target, str) else None


def numgen_of(ng: Any) -> tuple[int, int] | None:
    """``numgen random mod N offset O``'s (N, O) as kube-proxy writes it (N > 0, both whole numbers); None for
    another mode or values of another kind (the trace then does not follow it)."""
    if not isinstance(ng, dict) or ng.get("mode") != "random":
        return None
    mod, offset = ng.get("mod"), ng.get("offset", 0) or 0
    if type(mod) is not int or mod <= 0 or type(offset) is not int:
        return None
    return mod, offset


def verdict_of(expr: dict[str, Any]) -> Verdict | None:
    for kind in VERDICTS:
        if kind in expr:
            return Verdict(kind, jump_target(expr[kind]))
    return None


def selector_name(left: Any) -> str | None:
    """``{"payload": {"protocol": "ip", "field": "daddr"}}`` -> "ip daddr"; None for what is not a selector
    (a body of another shape than nft writes, too: the match is then one the readers do not decide)."""
    if not isinstance(left, dict):
        return None
    if "payload" in left:
        p = left["payload"]
        if not isinstance(p, dict):
            return None
        if "protocol" in p:
            return f"{p['protocol']} {p.get('field')}"
        return f"payload {p.get('base')} {p.get('offset')} {p.get('len')}"
    if "meta" in left:
        meta = left["meta"]
        return f"meta {meta['key']}" if isinstance(meta, dict) and isinstance(meta.get("key"), str) else None
    if "ct" in left:
        ct = left["ct"]
        if not isinstance(ct, dict) or not isinstance(ct.get("key"), str):
            return None
        return f"ct {ct.get('dir', '') + ' ' if ct.get('dir') else ''}{ct['key']}"
    if "fib" in left:
        fib = left["fib"]
        flags = fib.get("flags", []) if isinstance(fib, dict) else None
        flags = [flags] if isinstance(flags, str) else flags
        if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
            return None
        return f"fib {' . '.join(flags)} {fib.get('result')}"
    if "numgen" in left:
        ng = left["numgen"]
        if not isinstance(ng, dict):
            return None
        offset = f" offset {ng['offset']}" if ng.get("offset") else ""
        return f"numgen {ng.get('mode')} mod {ng.get('mod')}{offset}"
    if "concat" in left and isinstance(left["concat"], list):
        parts = [selector_name(x) or str(x) for x in left["concat"]]
        return " . ".join(parts)
    return None


def value_text(value: Any) -> Any:
    """A JSON right-hand value as nft prints it: prefixes as "a/len", ranges as "lo-hi", sets as lists."""
    if isinstance(value, dict):
        prefix, span = value.get("prefix"), value.get("range")
        if isinstance(prefix, dict) and "addr" in prefix:
            return f"{prefix['addr']}/{prefix.get('len')}"
        if isinstance(span, list) and len(span) == 2:
            return f"{span[0]}-{span[1]}"
        if "set" in value:
            items = value["set"]
            return [value_text(x) for x in (items if isinstance(items, list) else [items])]
        if "concat" in value:
            return " . ".join(str(value_text(x)) for x in value["concat"])
        for op in ("|", "^", "&"):
            if op in value and isinstance(value[op], list) and len(value[op]) == 2:
                a, b = value[op]
                a = selector_name(a) or value_text(a)
                b = f"{b:#010x}" if isinstance(b, int) else value_text(b)
                return f"{a} {op} {b}"
    return value


def match_of(expr: dict[str, Any]) -> Match | None:
    m = expr.get("match")
    if not isinstance(m, dict):
        return None
    left = m.get("left")
    mask = None
    if isinstance(left, dict) and "&" in left and isinstance(left["&"], list) and len(left["&"]) == 2:
        left, mask_value = left["&"]
        mask = mask_value if isinstance(mask_value, int) else None
    name = selector_name(left)
    if name is None:
        return None
    return Match(name, m.get("op", "=="), value_text(m.get("right")), mask)


def normalize_key_part(part: Any) -> Any:
    """One part of a set/map key as lookups compare it."""
    if isinstance(part, bool):
        return part
    if isinstance(part, int):
        return part
    if isinstance(part, str):
        s = part.strip()
        if s.isdigit():
            return int(s)
        if ":" in s:  # IPv6: one spelling per address (nft prints IPv4 canonically already)
            try:
                return ipaddress.ip_address(s).compressed
            except ValueError:
                pass
        return s.lower() if s.isalpha() else s
    if isinstance(part, dict):
        return value_text(part)
    return part


def normalize_key(parts: Any, types: tuple[str, ...] = ()) -> tuple[Any, ...]:
    parts = list(parts) if isinstance(parts, (list, tuple)) else [parts]
    out = []
    for i, part in enumerate(parts):
        p = normalize_key_part(part)
        if i < len(types) and types[i] == "inet_proto" and isinstance(p, int):
            p = PROTO_NUMBERS.get(p, p)
        out.append(p)
    return tuple(out)


# --- the summary iptables-version-skew reads ------------------------------------------


class RuleSummary(NamedTuple):
    position: int
    jump: str | None  # jump/goto target chain
    protocol: str | int | None  # "tcp" from "meta l4proto tcp" / "ip protocol tcp"; an unnamed number as is
    dport: int | str | None  # 39090, or "30000-32767" / "{80,443}" as printed
    daddr: str | None  # "10.101.173.15", "10.0.0.0/8"; "!"-prefixed when negated
    mark: str | None  # mark match in iptables words: "0x4000/0x4000", "!0x4000/0x4000"
    packets: int | None  # the rule's counter, None without one
    bytes: int | None
    goto: bool = False  # the jump is a goto
    xt: tuple[str, ...] = ()  # opaque iptables-nft compat parts: ("match comment", "target DNAT")
    handle: int | None = None
    ref: str | None = None  # where it was read: "file:line" or "file.json#/nftables/30"


def _mark_text(m: Match) -> str:
    value = m.right if isinstance(m.right, int) else to_int(m.right)
    neg = "!" if m.op == "!=" else ""
    if value is None:
        return f"{neg}{m.right}"
    if m.mask is not None:
        return f"{neg}{value:#x}/{m.mask:#x}"
    return f"{neg}{value:#x}"


def to_int(v: Any) -> int | None:
    """An nft JSON number, or a number written as a string ("0x10", "80"); None otherwise (a bool is no number)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return None
    return None


def _dport_value(right: Any) -> int | str:
    if isinstance(right, int):
        return right
    if isinstance(right, list):
        return "{" + ",".join(str(x) for x in right) + "}"
    s = str(right)
    return int(s) if s.isdigit() else s


def rule_summary(rule: NftRule) -> RuleSummary:
    """Position, jump target, protocol, port, destination, mark and counter of one rule."""
    protocol = dport = daddr = mark = None
    for m in rule.matches():
        if m.left in ("meta l4proto", "ip protocol", "ip6 nexthdr") and m.op in ("==", "in"):
            right = m.right
            protocol = PROTO_NUMBERS.get(right, right) if isinstance(right, int) else str(right)
        elif m.left in ("tcp dport", "udp dport", "sctp dport", "th dport"):
            dport = _dport_value(m.right)
            if m.op == "!=":
                dport = f"!{dport}"
            if protocol is None and m.left != "th dport":
                protocol = m.left.split()[0]
        elif m.left in ("ip daddr", "ip6 daddr") and not (isinstance(m.right, str) and m.right.startswith("@")):
            text = m.right if not isinstance(m.right, list) else "{" + ",".join(map(str, m.right)) + "}"
            daddr = f"!{text}" if m.op == "!=" else str(text)
        elif m.left == "meta mark":
            mark = _mark_text(m)
    jump = None
    goto = False
    v = rule.verdict
    if v is not None and v.kind in ("jump", "goto"):
        jump, goto = v.target, v.kind == "goto"
    xt = tuple(f"{e['xt'].get('type', 'match')} {e['xt'].get('name')}" for e in rule.exprs if "xt" in e)
    counter = rule.counter
    return RuleSummary(
        position=rule.position,
        jump=jump,
        protocol=protocol,
        dport=dport,
        daddr=daddr,
        mark=mark,
        packets=counter[0] if counter else None,
        bytes=counter[1] if counter else None,
        goto=goto,
        xt=xt,
        handle=rule.handle,
        ref=rule.loc.ref if rule.loc else None,
    )


# --- rendering (evidence text for JSON input, where there is no printed line) -----------


def render_value(value: Any) -> str:
    v = value_text(value) if isinstance(value, dict) else value
    if isinstance(v, list):
        return "{ " + ", ".join(str(x) for x in v) + " }"
    return str(v)


def render_element(element: NftElement) -> str:
    key = " . ".join(str(k) for k in element.key)
    if element.comment:
        key += f' comment "{element.comment}"'
    if element.value is not None:
        return f"{key} : {element.value}"
    return key


def render_expr(expr: dict[str, Any]) -> str:
    """One JSON statement in nft's words (close to ``nft list``), for evidence and messages."""
    m = match_of(expr)
    if m is not None:
        if m.mask is not None:
            right = f"{m.right:#010x}" if isinstance(m.right, int) else render_value(m.right)
            return f"{m.left} & {m.mask:#010x} {m.op} {right}"
        op = "" if m.op in ("==", "in") else f"{m.op} "
        return f"{m.left} {op}{render_value(m.right)}"
    v = verdict_of(expr)
    if v is not None:
        return str(v)
    if not expr:  # {} in hostile nft -j: nothing to say
        return "{}"
    kind, body = next(iter(expr.items()))
    if kind == "counter" and isinstance(body, dict):
        return f"counter packets {body.get('packets', 0)} bytes {body.get('bytes', 0)}"
    if kind in ("dnat", "snat") and isinstance(body, dict):
        addr = body.get("addr")
        port = body.get("port")
        dest = addr if port is None else (f"[{addr}]:{port}" if addr and ":" in str(addr) else f"{addr}:{port}")
        return f"{kind} to {dest}"
    if kind == "vmap" and isinstance(body, dict):
        key = selector_name(body.get("key")) or str(body.get("key"))
        data = body.get("data")
        if isinstance(data, str):
            return f"{key} vmap {data}"
        items = data.get("set", []) if isinstance(data, dict) else []
        inner = ", ".join(f"{render_value(k)} : {verdict_of(v) or v}" for k, v in items)
        return f"{key} vmap {{ {inner} }}"
    if kind == "set" and isinstance(body, dict):
        return f"{body.get('op')} {body.get('set')} {{ {selector_name(body.get('elem')) or body.get('elem')} }}"
    if kind == "masquerade":
        flags = body.get("flags") if isinstance(body, dict) else None
        flags = " ".join(flags) if isinstance(flags, list) else (flags or "")
        return f"masquerade {flags}".strip()
    if kind == "reject":
        return "reject"
    if kind == "mangle" and isinstance(body, dict):
        return f"{selector_name(body.get('key'))} set {render_value(body.get('value'))}"
    if kind == "xt" and isinstance(body, dict):
        return f"xt {body.get('type')} {body.get('name')}"
    if kind == "unknown":
        return str(body)
    return f"{kind} {body}" if body is not None else kind


def render_rule(rule: NftRule) -> str:
    text = " ".join(render_expr(e) for e in rule.exprs)
    if rule.comment:
        text += f' comment "{rule.comment}"'
    return text

"""The iptables rule model: RuleSet > Table > Chain > Rule, with provenance.

Parsers (``parse/``) build it from ``iptables-save`` text, ``-A`` lines pasted alone or
``iptables -L -n -v`` listings; readers of live tables build it too. Correlation reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Rule:
    table: str
    chain: str
    position: int  # 1-based position within its chain, as the kernel evaluates it
    source: str  # file or command the rule came from
    line_no: int  # line in that source
    raw: str  # the line as read, for evidence
    packets: int | None = None  # None: the input carried no counters
    bytes: int | None = None
    protocol: str | None = None  # -p value ("tcp"); a leading "!" keeps a negation
    source_addr: str | None = None  # -s value, "!"-prefixed when negated
    dest_addr: str | None = None  # -d value, "!"-prefixed when negated
    in_iface: str | None = None
    out_iface: str | None = None
    matches: list[str] = field(default_factory=list)  # -m modules, in order
    options: dict[str, list[str]] = field(default_factory=dict)  # --opt -> values ("!" kept)
    comment: str | None = None
    dport: str | None = None  # "--dport"/"--dports" value as printed ("80", "!80", "80:90")
    probability: float | None = None  # -m statistic --probability
    target: str | None = None  # -j/-g target, None for a rule without a verdict
    goto: bool = False  # -g instead of -j
    target_options: dict[str, list[str]] = field(default_factory=dict)  # options after -j

    @property
    def to_destination(self) -> str | None:
        values = self.target_options.get("--to-destination")
        return values[0] if values else None

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.line_no}"

    def has_option(self, name: str) -> bool:
        return name in self.options


@dataclass(slots=True)
class Chain:
    name: str
    policy: str | None = None  # ACCEPT/DROP for built-in chains, None for user chains
    packets: int | None = None  # policy counters (built-in chains)
    bytes: int | None = None
    rules: list[Rule] = field(default_factory=list)
    declared: bool = True  # False: only seen in "-A" lines (a paste without the header)


@dataclass(slots=True)
class Table:
    name: str
    chains: dict[str, Chain] = field(default_factory=dict)

    def chain(self, name: str) -> Chain | None:
        return self.chains.get(name)

    def ensure_chain(self, name: str) -> Chain:
        chain = self.chains.get(name)
        if chain is None:
            chain = self.chains[name] = Chain(name, declared=False)
        return chain

    def rules(self) -> list[Rule]:
        return [rule for chain in self.chains.values() for rule in chain.rules]


@dataclass(slots=True)
class DumpInfo:
    """What the input itself tells about how it was produced, and what it lacks."""

    source: str
    form: str  # "iptables-save" | "rules-only" (bare -A lines) | "iptables-list" (-L -n -v)
    reader: str | None = None  # e.g. "iptables-nft-save", from the save header
    reader_version: str | None = None  # e.g. "1.8.7"
    backend: str | None = None  # "nf_tables" | "legacy" | None when unknown
    has_counters: bool = False
    notices: list[str] = field(default_factory=list)  # lines iptables printed: incompatible tables, warnings
    skipped: list[str] = field(default_factory=list)  # --lenient: lines skipped, with reasons


@dataclass(slots=True)
class RuleSet:
    tables: dict[str, Table] = field(default_factory=dict)
    dumps: list[DumpInfo] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def ensure_table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = Table(name)
        return table

    def chain(self, table: str, name: str) -> Chain | None:
        t = self.tables.get(table)
        return t.chains.get(name) if t else None

    def rules_of(self, table: str, chain: str) -> list[Rule]:
        c = self.chain(table, chain)
        return c.rules if c else []

    @property
    def has_counters(self) -> bool:
        return any(d.has_counters for d in self.dumps)

    def merge(self, other: RuleSet) -> None:
        """Add another dump's tables (e.g. nat and filter pasted as two files)."""
        for name, table in other.tables.items():
            mine = self.ensure_table(name)
            for cname, chain in table.chains.items():
                existing = mine.chains.get(cname)
                if existing is None or (not existing.rules and chain.rules):
                    mine.chains[cname] = chain
                elif chain.rules and existing.rules is not chain.rules:
                    # the same chain in two inputs: keep the first, it is the one the user named first
                    continue
        self.dumps.extend(other.dumps)

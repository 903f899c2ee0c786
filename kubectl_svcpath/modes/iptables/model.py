"""The iptables rule model: RuleSet > Table > Chain > Rule, with provenance.

Parsers (``parse/``) build it from ``iptables-save`` text, ``-A`` lines pasted alone or
``iptables -L -n -v`` listings; readers of live tables build it too. Correlation reads it.
"""

from __future__ import annotations

import itertools
import operator
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from kubectl_svcpath.parse.possessive import compile_possessive

_T = TypeVar("_T")


# what an iptables older than the one that wrote a rule prints for the options of a match or target it cannot decode
# (a host's iptables-save of kube-proxy's DNAT: "-j DNAT [unsupported revision]"), kept among the rule's options
UNSUPPORTED = "[unsupported revision]"

@dataclass(slots=True)
class Rule:
    # (parse_save._kube_proxy_rule makes a Rule by position: a field added or moved is added or moved there too)
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
    partial: bool = False  # the author cut words out of this line ("..."): its matches are not all shown
    numbered: bool = False  # position as the kernel numbers it (iptables -L --line-numbers), not as pasted
    twin: Rule | None = None  # the same rule in another input (an -L line beside a pasted -A line)

    @property
    def to_destination(self) -> str | None:
        values = self.target_options.get("--to-destination")
        return values[0] if values else None

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.line_no}"

    @property
    def dport_number(self) -> int | None:
        """The destination port matched, when it is one number (not a range, not negated)."""
        return _port(self.dport) if self.dport else None


def bare_address(addr: str | None) -> str | None:
    """``10.0.0.1/32`` -> ``10.0.0.1`` (iptables-save adds /32 and /128); None for a negated match."""
    if addr is None or addr.startswith("!"):
        return None
    for suffix in ("/32", "/128"):
        if addr.endswith(suffix):
            return addr[: -len(suffix)]
    return addr


def split_hostport(value: str | None) -> tuple[str | None, int | None]:
    """A DNAT target ``10.0.0.1:80`` or ``[fd00::1]:80`` -> (host, port)."""
    if not value:
        return None, None
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, _port(rest[1:]) if rest.startswith(":") else None
    host, sep, port = value.rpartition(":")
    if not sep or ":" in host:
        return value, None
    return host, _port(port)


def _port(text: str) -> int | None:
    """A port number, or None (also for 5,000 digits: int() would refuse past 4,300)."""
    return int(text) if text.isdigit() and text.isascii() and len(text) <= 5 else None


class RuleSource(Protocol):
    """Reads rule ``i`` of a chain on demand (a parser keeps the text and the offsets)."""

    def rule_text(self, offset: int) -> str: ...

    def line_offsets(self, start: int, end: int) -> list[int]: ...

    def lines_containing(self, word: str, start: int, end: int) -> list[int]: ...

    def make_rule(self, chain: Chain, index: int, offset: int, line_no: int) -> Rule | None: ...

    def chains_mentioning(self, word: str, start: int, end: int) -> set[str]: ...

    def line_targets(self, start: int, end: int) -> list[tuple[int, str]]: ...

    def span_text(self, start: int, end: int) -> str: ...

    @property
    def text(self) -> str: ...  # the whole dump: every text range above is a range of it


_TARGET = re.compile(r" -[jg] (\S+)")
_JUMP = re.compile(r" -j (\S+)")
# (Python 3.10: one character at a time, so that a line without a second jump fails in linear time)
_TWO_JUMPS = compile_possessive(r" -j (?:[^ \n]++| (?!-j ))*+ -j ", fallback=r" -j (?:[^ \n]| (?!-j ))* -j ")


def _one_jump_each(text: str) -> list[str] | None:
    """Each line's target when every line of ``text`` has exactly one " -j TARGET" and no " -g " (kube-proxy's
    rules: KUBE-SERVICES' 10^4 lines in three C passes, not a lazy regex per line); else None."""
    lines = text.count("\n") + 1
    if " -g " in text or text.count(" -j ") != lines:
        return None
    found = _JUMP.findall(text)
    return found if len(found) == lines and _TWO_JUMPS.search(text) is None else None


@dataclass(slots=True)
class Chain:  # (LazyChains._make makes one by position: a field added or moved is added or moved there too)
    """A chain and its rules.

    A big dump (10,000 Services: ~300,000 rules) is parsed lazily: the parser records where
    each rule's line is, and a rule is tokenised only when something reads it. Analysing one
    Service then costs the few chains it walks, not the whole table.
    """

    name: str
    policy: str | None = None  # ACCEPT/DROP for built-in chains, None for user chains
    packets: int | None = None  # policy counters (built-in chains)
    bytes: int | None = None
    declared: bool = True  # False: only seen in "-A" lines (a paste without the header)
    complete: bool | None = None  # True: all its rules are in the input; None: as its table says
    _rules: list[Rule] | None = None
    _source: RuleSource | None = None
    _spans: list[tuple[int, int]] | None = None  # text ranges holding the chain's rule lines (whole-text scan)
    _offsets: Sequence[int] = ()  # where each pending rule's line starts
    _line_nos: Sequence[int] = ()  # empty: the source finds them when a rule is read
    _target_index: dict[str, list[int]] | None = None  # target -> positions, read from the rules' text
    _read_index: tuple[list[Rule], int, dict[str, list[int]]] | None = None  # the same over tokenised rules

    @property
    def rules(self) -> list[Rule]:
        if self._rules is None:
            self._rules = self._materialize(range(len(self._pending_offsets())))
        return self._rules

    @rules.setter
    def rules(self, value: list[Rule]) -> None:
        self._rules = value

    def __len__(self) -> int:
        return len(self._rules) if self._rules is not None else len(self._pending_offsets())

    def __bool__(self) -> bool:  # a chain is there even when it has no rules
        return True

    def _pending_offsets(self) -> Sequence[int]:
        if self._spans and self._source is not None and not self._offsets:
            # the line offsets of a chain found by the whole-text scan, worked out when first read
            self._offsets = [o for start, end in self._spans for o in self._source.line_offsets(start, end)]
        return self._offsets

    def add_span(self, source: RuleSource, start: int, end: int) -> None:
        self._source = source
        if self._spans is None:
            self._spans = []
        self._spans.append((start, end))

    def add_pending(self, source: RuleSource, offset: int, line_no: int) -> None:
        self._source = source
        if not isinstance(self._offsets, list):
            self._offsets, self._line_nos = list(self._offsets), list(self._line_nos)
        self._offsets.append(offset)
        self._line_nos.append(line_no)  # type: ignore[attr-defined]

    def _materialize(self, indexes: range | list[int]) -> list[Rule]:
        if self._source is None:
            return []
        out = []
        for i in indexes:
            rule = self._source.make_rule(self, i, self._offsets[i], self._line_nos[i] if self._line_nos else 0)
            if rule is not None:
                out.append(rule)
        return out

    def rules_targeting(self, targets: set[str]) -> list[Rule]:
        """The rules that jump to one of ``targets``, tokenising only those (an index of targets is kept)."""
        if self._rules is not None or self._source is None:
            # a tokenised dispatch chain (KUBE-SERVICES: one rule per port) is asked once per Service
            # of an audit: index it by target once instead of scanning it each time
            rules = self.rules
            if self._read_index is None or self._read_index[0] is not rules or self._read_index[1] != len(rules):
                index: dict[str, list[int]] = {}
                for i, r in enumerate(rules):
                    if r.target:
                        index.setdefault(r.target, []).append(i)
                self._read_index = (rules, len(rules), index)
            found = self._read_index[2]
            return [rules[i] for i in sorted(i for t in targets for i in found.get(t, ()))]
        wanted = sorted(i for t in targets for i in self._targets().get(t, ()))
        return self._materialize(wanted)

    def targets(self) -> set[str]:
        """Every chain or verdict the chain's rules jump to, read without tokenising its rules."""
        if self._rules is not None or self._source is None:
            return {r.target for r in self.rules if r.target}
        return set(self._targets())

    def _targets(self) -> dict[str, list[int]]:
        if self._target_index is None:
            assert self._source is not None
            index: dict[str, list[int]] = {}
            offsets = self._pending_offsets()
            one_each = _one_jump_each("\n".join(self._source.span_text(a, b) for a, b in self._spans)) if self._spans else None
            if one_each is not None and len(one_each) == len(offsets):  # (rule i is line i)
                for i, target in enumerate(one_each):
                    index.setdefault(target, []).append(i)
            elif self._spans:  # one regex over the chain's text (KUBE-SERVICES: a line per Service port)
                for start, end in self._spans:
                    for off, target in self._source.line_targets(start, end):
                        index.setdefault(target, []).append(bisect_left(offsets, off))
            else:
                for i, off in enumerate(offsets):
                    m = _TARGET.search(self._source.rule_text(off))
                    if m:
                        index.setdefault(m.group(1), []).append(i)
            self._target_index = index
        return self._target_index

    def rules_mentioning(self, words: tuple[str, ...]) -> list[Rule]:
        """The rules whose text holds one of ``words`` (a cheap filter before tokenising)."""
        if self._rules is not None or self._source is None:
            return [r for r in self.rules if any(w in r.raw for w in words)]
        src = self._source
        spans = self._spans
        offsets = self._pending_offsets()
        if spans:  # search the chain's text, then map the hits back to rule positions
            hits = {o for start, end in spans for w in words for o in src.lines_containing(w, start, end)}
            wanted = sorted(bisect_left(offsets, o) for o in hits)
        else:
            wanted = [i for i, off in enumerate(offsets) if any(w in src.rule_text(off) for w in words)]
        return self._materialize(wanted)

    def release(self) -> None:
        """Forget tokenised rules of a lazily parsed chain (an --all audit walks every chain once)."""
        if self._source is not None and (self._offsets or self._spans):
            self._rules = None


@dataclass(slots=True)
class Table:
    name: str
    chains: MutableMapping[str, Chain] = field(default_factory=dict)
    # the whole table is in the input (a "*table" header and its COMMIT, nothing cut out): only
    # then may a chain or rule be called absent because it is not there
    complete: bool = False

    def chain(self, name: str) -> Chain | None:
        return self.chains.get(name)

    def ensure_chain(self, name: str) -> Chain:
        chain = self.chains.get(name)
        if chain is None:
            chain = self.chains[name] = Chain(name, declared=False)
        return chain

    def rules(self) -> list[Rule]:
        return [rule for chain in self.chains.values() for rule in chain.rules]


# a chain's text range packed into one int (start << 40 | end): 10^5 chains of one run each held as
# (start, end) tuples in a list took ~16 MB more than the ints
_SPAN_SHIFT = 40
_SPAN_MASK = (1 << _SPAN_SHIFT) - 1
_GONE = object()
_INT = {int}
_ALL_GONE = itertools.repeat(_GONE)  # (dict.get's default for each name: map() stops at the shortest)
# a chain the whole-text scan knows has one run of rule lines, not yet located (see RunLocator)
UNLOCATED = -1


def pack_span(start: int, end: int) -> int:
    return start << _SPAN_SHIFT | end


def pack_spans(starts: list[int], ends: list[int]) -> list[int]:
    """pack_span of each (start, end) pair, at C speed (10^5 chains: no Python call per chain)."""
    return list(map(operator.or_, map(operator.lshift, starts, itertools.repeat(_SPAN_SHIFT)), ends))


def span_length(packed: int) -> int:
    return (packed & _SPAN_MASK) - (packed >> _SPAN_SHIFT)


class RunLocator(Protocol):
    """Finds a chain's one run of rule lines in the text when first asked (parse_save's plain dumps)."""

    def span(self, name: str) -> int: ...

    def all_spans(self) -> Iterator[tuple[str, int]]: ...

    def all_packed(self) -> tuple[list[str], list[int]] | None: ...


def _unpacked(spans: int | list[tuple[int, int]] | None) -> list[tuple[int, int]] | None:
    if isinstance(spans, int):
        return [(spans >> _SPAN_SHIFT, spans & _SPAN_MASK)]
    return spans


class LazyChains(MutableMapping[str, Chain]):
    """Chains by name, built when first looked up.

    A 10,000-Service node has ~110,000 chains; one Service's analysis looks at a few dozen.
    The whole-text scan records each chain's text ranges here and a Chain object is made
    only when someone asks for it (iteration makes them all).
    """

    __slots__ = ("_located", "_locator", "_made", "_pending", "_section", "_source", "_zero")

    def __init__(self, source: RuleSource, declared_counters: bool = False, section: tuple[int, int] = (0, 0)) -> None:
        self._made: dict[str, Chain] = {}
        # None: declared, no rules; an int: one text range (pack_span), or UNLOCATED; a list: several
        self._pending: dict[str, int | list[tuple[int, int]] | None] = {}
        self._locator: RunLocator | None = None
        self._located = 0  # runs located one by one so far
        self._source = source
        self._section = section  # the table's text, "*table" to COMMIT
        # iptables-save declares user chains as ":NAME - [0:0]": they have no counters of their own
        self._zero = 0 if declared_counters else None

    def add_unlocated(self, names: dict[str, int], locator: RunLocator) -> None:
        """Chains with one run of rule lines each (``names``: each UNLOCATED, in text order), located when
        first read (no span yet)."""
        self._locator = locator
        pending = self._pending
        if not pending and not self._made:
            self._pending = names  # type: ignore[assignment]
            return
        for name in names:
            if name not in pending and name not in self._made:
                pending[name] = UNLOCATED

    def _located_span(self, name: str) -> int | list[tuple[int, int]] | None:
        """The pending value of ``name`` with its run located: one bisection of the text each, or all at
        once after 256 of them (an audit reads every chain: one regex pass is cheaper then)."""
        packed = self._pending.get(name)
        if packed != UNLOCATED or self._locator is None:
            return packed
        self._located += 1
        if self._located <= 256:
            packed = self._pending[name] = self._locator.span(name)
            return packed
        self.locate_all()
        return self._pending[name]

    def locate_all(self) -> None:
        """Every chain's run located at once (an audit, which reads them all, asks first: the pass then
        runs before the Services are listed, not on top of what listing them holds)."""
        if self._locator is None:
            return
        pending = self._pending
        located = self._locator.all_packed()
        if located is not None:
            # every run still pending (UNLOCATED, or located to the same span) set at C speed; the few whose
            # Chain was made already (a built-in chain with rules: made when its policy was read) left out
            made = list(itertools.filterfalse(pending.__contains__, located[0]))
            pending.update(zip(*located, strict=True))
            for name in made:
                del pending[name]
            self._locator = None
            return
        for other, span in self._locator.all_spans():  # (one at a time: a dict of 10^5 runs took ~20 MB at the peak)
            if pending.get(other) == UNLOCATED:
                pending[other] = span
        if UNLOCATED not in pending.values():
            self._locator = None  # every run located: its index of 10^5 names (~6 MB) is let go

    def add_span(self, name: str, start: int, end: int) -> None:
        chain = self._made.get(name)
        if chain is not None:
            chain.add_span(self._source, start, end)
            return
        spans = self._located_span(name)
        if spans is None:
            self._pending[name] = pack_span(start, end)
        elif isinstance(spans, int):
            self._pending[name] = [*(_unpacked(spans) or []), (start, end)]
        else:
            spans.append((start, end))

    def add_runs(self, spans: dict[str, int]) -> None:
        """Each chain's text range (pack_span), for a table read at once (10^5 chains: one dict, no call per chain)."""
        if not self._made and not self._pending:
            self._pending = spans  # type: ignore[assignment]
            return
        for name, packed in spans.items():
            for a, b in _unpacked(packed) or []:
                self.add_span(name, a, b)

    def set_declared_counters(self, declared_counters: bool) -> None:
        self._zero = 0 if declared_counters else None

    def declare_all(self, names: Iterable[str]) -> None:
        """Chains declared without rules (most declared ones have rules: pending already)."""
        pending, made = self._pending, self._made
        pending.update(dict.fromkeys([n for n in names if n not in pending and n not in made]))

    def names_mentioning(self, word: str) -> set[str]:
        """Chains with a rule line holding ``word``, found by searching the table's text (C speed),
        plus every chain whose rules did not come from that text (a merge): a superset to filter."""
        found = self._source.chains_mentioning(word, *self._section)
        found.update(n for n, c in self._made.items() if c._source is not self._source or c._rules is not None)
        return found

    def pending(self, name: str) -> bool:
        """The chain is in the input and no Chain object was made for it yet."""
        return name in self._pending

    def text_of(self, name: str) -> str | None:
        """The chain's rule lines as the input shows them, without making a Chain object (an audit
        reads every chain once): None when the input has no such chain, "" when it has no rules."""
        if name in self._pending:
            packed = self._located_span(name)
            if isinstance(packed, int):  # (most chains: one run of lines)
                return self._source.span_text(packed >> _SPAN_SHIFT, packed & _SPAN_MASK)
            spans = packed
        else:
            chain = self._made.get(name)
            if chain is None:
                return None
            if chain._source is not self._source or (chain._rules is not None and not chain._spans):
                return "\n".join(r.raw for r in chain.rules)
            spans = chain._spans
        if not spans:
            return ""
        return "\n".join(self._source.span_text(a, b) for a, b in spans)

    @property
    def text(self) -> str:
        """The dump the chains' text ranges are ranges of (read in place by a whole-table audit)."""
        return self._source.text

    def texts_of(self, names: list[str]) -> list[str | None]:
        """text_of() of each name (an audit reads ~10 endpoint chains per Service: one call for them)."""
        text, made, text_of = self._source.text, self._made, self.text_of
        # (sliced here, no call per chain; a name the table lacks - most of a port's five per-service
        # chains - is None without a call)
        return [text[p >> _SPAN_SHIFT:p & _SPAN_MASK] if type(p) is int and p >= 0
                else None if p is _GONE and name not in made else text_of(name)
                for name, p in zip(names, map(self._pending.get, names, _ALL_GONE), strict=True)]

    def runs_of(self, names: list[str]) -> list[int] | None:
        """Each chain's one run in ``text`` (pack_span), to be read in place; None when one of them is not
        a single located run (then texts_of)."""
        spans: list[Any] = list(map(self._pending.get, names))
        if not spans or set(map(type, spans)) != _INT or min(spans) < 0:
            return None
        return spans

    def blocks_of(self, names: list[str], most: int) -> list[tuple[int, int]] | None:
        """The pending chains' rule lines as ranges of ``text``, up to ``most`` runs that touch merged into
        one range (iptables-save prints the chains sorted: a table's service chains come one after
        another); chains without rules left out. None when one of them is not a single located run (then
        texts_of)."""
        spans: list[int] = []
        for p in map(self._pending.get, names):
            if isinstance(p, int) and p >= 0:
                spans.append(p)
            elif p is not None:  # (several runs, or not located)
                return None
        blocks: list[tuple[int, int]] = []
        lo = hi = -2
        runs = 0
        for p in sorted(spans):  # (packed start << shift | end: sorted by start)
            start, end = p >> _SPAN_SHIFT, p & _SPAN_MASK
            if start == hi + 1 and runs < most:  # the next line: the same range
                hi = end
                runs += 1
                continue
            if hi >= 0:
                blocks.append((lo, hi))
            lo, hi, runs = start, end, 1
        if hi >= 0:
            blocks.append((lo, hi))
        return blocks

    def _make(self, name: str) -> Chain | None:
        if name not in self._pending:
            return None
        self._located_span(name)
        spans = _unpacked(self._pending.pop(name))
        zero = self._zero
        # (by position, in the order of Chain's fields: an audit makes ~110,000 chains)
        chain = Chain(name, None, zero, zero) if spans is None else Chain(name, None, zero, zero, True, None, None, self._source, spans)
        self._made[name] = chain
        return chain

    def __getitem__(self, name: str) -> Chain:
        chain = self.get(name)
        if chain is None:
            raise KeyError(name)
        return chain

    def get(self, name: str, default: Chain | None = None) -> Chain | None:  # type: ignore[override]
        chain = self._made.get(name)
        if chain is None:
            chain = self._make(name)
        return default if chain is None else chain

    def __contains__(self, name: object) -> bool:
        return name in self._made or name in self._pending

    def having(self, names: Iterable[str]) -> list[str]:
        """The names the input has a chain of, in order (``in`` of each, without a call per name)."""
        made, pending = self._made, self._pending
        return [n for n in names if n in pending or n in made]

    def __setitem__(self, name: str, chain: Chain) -> None:
        self._pending.pop(name, None)
        self._made[name] = chain

    def __delitem__(self, name: str) -> None:
        if self._pending.pop(name, _GONE) is _GONE:
            del self._made[name]

    def __iter__(self) -> Iterator[str]:
        # (both snapshots first: a chain made while the caller iterates is still listed once; and a C
        # iterator, not a generator: era and infer walk 10^5 names)
        return itertools.chain(list(self._made), list(self._pending))

    def __len__(self) -> int:
        return len(self._made) + len(self._pending)


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
    elisions: list[int] = field(default_factory=list)  # lines where the author cut ("...", "[snip]")
    annotations: list[int] = field(default_factory=list)  # rule lines with the author's own "# ..." after them
    grep: bool = False  # grep output ("12:-A …", "file:-A …"): only the lines that matched
    deleted: list[str] = field(default_factory=list)  # "-X CHAIN" lines (a partial iptables-restore input)
    repairs: list[str] = field(default_factory=list)  # what was read differently from the text, and why
    listed_tables: list[str] = field(default_factory=list)  # iptables -L: the table(s) the listing was taken to be
    told_tables: list[str] = field(default_factory=list)  # … of them, the ones a pasted command's -t (or none: filter) named
    first_rule_line: int | None = None  # the line of the first rule, declaration or chain header (bare lines: where the author began)
    # the pasted commands' grep words (parse/grep_words.py); None: not known what they selected (no command, not a grep)
    selection: list[list[list[str]]] | None = None
    declares: bool = False  # "-N CHAIN" / "-P CHAIN POLICY" lines among bare rules: an `iptables -S` listing

    @property
    def excerpt(self) -> bool:
        """The input shows part of the rules: absence of anything cannot be proved from it."""
        return bool(self.elisions or self.grep or self.form in ("rules-only", "iptables-list-lines", "nft-chains", "nft-list-chain") or self.deleted)


@dataclass(slots=True)
class RuleSet:
    tables: dict[str, Table] = field(default_factory=dict)
    dumps: list[DumpInfo] = field(default_factory=list)
    # facts about the whole input (its era, its indexes), worked out once and reused by every
    # Service of an --all audit; merge() forgets them, since they hold for the tables they read
    _once: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def once(self, key: str, compute: Callable[[RuleSet], _T]) -> _T:
        """``compute(self)``, worked out on the first call for ``key`` and kept for the next ones."""
        if key not in self._once:
            self._once[key] = compute(self)
        return self._once[key]

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

    def chain_complete(self, table: str, name: str) -> bool:
        """All of the chain's rules are in the input (so a rule that is not there does not exist)."""
        t = self.tables.get(table)
        c = t.chains.get(name) if t is not None else None
        if c is None or t is None:
            return False
        return c.complete if c.complete is not None else t.complete

    def whole_chains(self, names: tuple[str, ...]) -> None:
        """These chains hold all their rules in the input, though their table is shown in part (a diff's new chains)."""
        for table in self.tables.values():
            for name in names:
                chain = table.chains.get(name) if name in table.chains else None
                if chain is not None:
                    chain.complete = True

    def knows(self, table: str, name: str) -> str:
        """``seen`` (the chain is in the input), ``absent`` (the whole table is, and it is not), or ``not-in-input``."""
        t = self.tables.get(table)
        if t is not None and name in t.chains:
            return "seen"
        return "absent" if t is not None and t.complete else "not-in-input"

    @property
    def excerpt(self) -> bool:
        return any(d.excerpt for d in self.dumps)

    def rules_targeting(self, table: str, chain: str, targets: set[str]) -> list[Rule]:
        c = self.chain(table, chain)
        return c.rules_targeting(targets) if c else []

    def rules_mentioning(self, table: str, chain: str, words: tuple[str, ...]) -> list[Rule]:
        c = self.chain(table, chain)
        return c.rules_mentioning(words) if c else []

    def chains_mentioning(self, table: str, word: str) -> set[str] | None:
        """Names of the chains that may have a rule holding ``word`` (a superset), or None when
        the table was not read from one text (then every chain may)."""
        t = self.tables.get(table)
        if t is None:
            return set()
        return t.chains.names_mentioning(word) if isinstance(t.chains, LazyChains) else None

    def release(self, chains: set[str]) -> None:
        """Forget the tokenised rules of these chains (an audit reads each Service's chains once)."""
        for t in self.tables.values():
            for name in chains:
                c = t.chains.get(name) if name in t.chains else None
                if c is not None:
                    c.release()

    @property
    def has_counters(self) -> bool:
        return any(d.has_counters for d in self.dumps)

    @property
    def backend(self) -> str | None:
        """The first backend a dump names ("nf_tables" | "legacy"), None when none does."""
        return next((d.backend for d in self.dumps if d.backend), None)

    def merge(self, other: RuleSet) -> None:
        """Add another dump's tables (e.g. nat and filter pasted as two files).

        The same chain in two whole dumps: the first is kept (it is the one the user named
        first). The same chain in two excerpts (rule lines and an ``-L | grep`` of the same
        table): their rules are joined, a rule shown in both keeping what each adds (the
        counters of one, the matches of the other).
        """
        self._once.clear()
        for name, table in other.tables.items():
            mine = self.ensure_table(name)
            for cname, chain in table.chains.items():
                existing = mine.chains.get(cname)
                if existing is None or (not len(existing) and len(chain)):
                    mine.chains[cname] = chain
                elif len(chain) and not (self.chain_complete(name, cname) and other.chain_complete(name, cname)):
                    join_rules(existing, chain)
            mine.complete = mine.complete or table.complete
        self.dumps.extend(other.dumps)


def same_rule(a: Rule, b: Rule) -> bool:
    """Two listings of one rule: same verdict, same destination, and comments alike (a wrapped one too)."""
    if a.target != b.target or bare_address(a.dest_addr) != bare_address(b.dest_addr):
        return False
    if a.source_addr and b.source_addr and bare_address(a.source_addr) != bare_address(b.source_addr):
        return False
    ca, cb = (a.comment or "").replace(" ", ""), (b.comment or "").replace(" ", "")
    if ca and cb and ca != cb:
        return False
    if a.to_destination and b.to_destination and a.to_destination != b.to_destination:
        return False
    return True


def join_rules(mine: Chain, other: Chain) -> None:
    """Rules of ``other`` into ``mine``: a rule in both gets the counters and position it lacked."""
    rules = list(mine.rules)
    for rule in other.rules:
        twin = next((r for r in rules if same_rule(r, rule)), None)
        if twin is None:
            rules.append(rule)
            continue
        if twin.packets is None and rule.packets is not None:
            twin.packets, twin.bytes = rule.packets, rule.bytes
        if rule.numbered and not twin.numbered:
            twin.position, twin.numbered = rule.position, True
        twin.twin = rule
    mine.rules = rules

"""Templates compiled into regexes: the later Services of a template checked in one C-level step.

audit.py finds a Service's template by taking the values out of its footprint, pass by pass, and
looking the rest up. Once a template has been met a few times, this module compiles it: the
footprint's text as it stands in the input (its rule lines whole, the Service's name masked), with
each value place a capture group - the first place of a value a new group, each later place of the
same value a backreference to it. A later Service whose text matches it in full has the same lines
but for its values, and the same values in the same places; the check after the match makes the
renaming one to one (distinct values stay distinct), and what the analysis tells apart at each address's
place (an address ending in .0 or not) picks the recipe learnt for it. That is what the template's key
vouches for, so that recipe makes the row, from the values the groups caught. Templates that differ only
in which addresses end in .0 share one pattern: a 10-endpoint Service's pods make a dozen such variants,
each compiled alone and each tried and failed in turn before. A Service that matches no compiled
template, or a variant not learnt yet, takes audit.py's way; nothing here ever makes a row the recipe
would not.
"""

from __future__ import annotations

import itertools
import operator
import re
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

# the value places: the same kinds, in the same contexts, as audit._values takes out (a counter's packets;
# a chain's hash; an address after -d/-s; an endpoint after --to-destination or "->" with its port; a port)
# an IPv4 address that is a value: written as the analysis reads one (no octet past 255, none with a
# leading zero) and not in 127/8, 0/8 or 255/8 (those the checks read apart); audit._values takes out the same
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
HOST = r"(?!127\.|0\.|255\.)" + _OCTET + r"(?:\." + _OCTET + r"){3}"
# a port that is a value: 1-65535 as a number is written (0 reads as no port, and "080" or 65536 are not
# ports the analysis reads as written: such a text keeps them, and shares no template with real ports)
PORT = r"(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})"
_SLOTS = re.compile(
    r"(?<=\n)\[(\d{1,20}):\d{1,20}\] "
    r"|(KUBE-(?:SVC|SVL|EXT|FW|XLB|SEP)-)([A-Z2-7]{16})(?![\w-])"
    r"|( -[ds] )(" + HOST + r")(?![\w.])"
    r"|(--to-destination |-> )(" + HOST + r"):(" + PORT + r")(?![\w.:])"
    r"|(--dport )(" + PORT + r")(?![\w:,])")
_IP_AT = r"(?![\w.])"
_PORT_AT = r"(?![\w:,])"
_ENDPOINT_PORT_AT = r"(?![\w.:])"
_HASH_AT = r"(?![\w-])"
# what each of those lookaheads refuses after a value: when the template's next character is a literal it
# refuses anyway, the literal's own match makes the lookahead idle (~70 of them a Service: a fifth of its match)
_REFUSED = {at: re.compile(at[3:-1]).fullmatch for at in (_IP_AT, _PORT_AT, _ENDPOINT_PORT_AT, _HASH_AT)}

LEARN_AFTER = 4  # a template is compiled when its key has been made this many times (tests set 1)
_PER_SHAPE = 8  # compiled templates tried for one shape of Service, at most
_TRIES = 64  # texts of a shape tried before its templates may be dropped (when half of them matched none)
_BUDGET = 0.1  # compiling takes at most this share of the time since the first (plus _FREE seconds)
_FREE = 0.05
MOST_CHARS = 1 << 16  # a longer footprint (~200 endpoints) is not compiled: re.compile takes ~1 us a character


@dataclass(slots=True)
class Matched:
    """What the recipe reads of a Service, in the order audit._values gives them."""

    counters: dict[int, str]  # (only the counters the recipe sums)
    ips: list[str]
    ports: list[str]


Getter = Callable[[tuple[Any, ...]], list[Any]]


def _getter(indexes: list[int]) -> Getter:
    """A function of a match's groups() giving those groups, as a list (itemgetter's speed, any length)."""
    if len(indexes) > 1:
        get = operator.itemgetter(*indexes)
        return lambda groups: list(get(groups))
    if indexes:
        i = indexes[0]
        return lambda groups: [groups[i]]
    return lambda groups: []


@dataclass(slots=True)
class _Variant:
    """What a template makes of a match whose addresses end in .0 where the learning Service's did."""

    recipe: Any
    ips: Getter  # each address audit._values numbered, in its order
    ports: Getter
    wanted: list[int]  # the counters the recipe sums (indexes of audit._pkts), and their places
    counters: Getter


@dataclass(slots=True)
class _Compiled:
    pattern: re.Pattern[str]
    distinct: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None  # every value's first place (values of two
    n_distinct: int  # kinds never look alike: one set for all), when two or more; how many values
    addresses: Getter  # every address's first place: which of them end in .0 picks the variant
    variants: dict[tuple[bool, ...], _Variant]


@dataclass(slots=True)
class _Places:
    """A text made a pattern: each value place a group (numbered from 1, in the pattern's order)."""

    pattern: str
    first: dict[tuple[str, str], int]  # (kind, value) -> the group of its first place
    counters: dict[str, list[int]]  # the line of each counter captured -> its group(s)


def _places(text: str, capture: set[str]) -> _Places:
    """``text`` as a pattern; a counter is a group only on a line in ``capture`` (the others are matched,
    not kept: fewer groups to fill at each match)."""
    out: list[str] = []
    pos = 0
    first: dict[tuple[str, str], int] = {}
    counters: dict[str, list[int]] = {}
    groups = 0

    def place(kind: str, value: str, pattern: str, after: str) -> str:
        nonlocal groups
        known = first.get((kind, value))
        if known is not None:
            return f"(?P=g{known}){after}"
        groups += 1
        first[(kind, value)] = groups
        return f"(?P<g{groups}>{pattern}){after}"

    def at(after: str, end: int) -> str:  # (the lookahead, unless the next character's literal does its work)
        return after if end < len(text) and _REFUSED[after](text[end]) else ""

    for m in _SLOTS.finditer(text):
        out.append(re.escape(text[pos:m.start()]))
        if m.group(1) is not None:
            end = text.find("\n", m.start())
            line = text[m.start():end if end >= 0 else len(text)]
            if line in capture:
                groups += 1
                counters.setdefault(line, []).append(groups)
                out.append(rf"\[(?P<g{groups}>\d{{1,20}}):\d{{1,20}}\] ")
            else:
                out.append(r"\[\d{1,20}:\d{1,20}\] ")
        elif m.group(2) is not None:
            out.append(m.group(2) + place("hash", m.group(3), "[A-Z2-7]{16}", at(_HASH_AT, m.end())))
        elif m.group(4) is not None:
            out.append(re.escape(m.group(4)) + place("ip", m.group(5), HOST, at(_IP_AT, m.end())))
        elif m.group(6) is not None:
            out.append(re.escape(m.group(6)) + place("ip", m.group(7), HOST, "") + ":"
                       + place("port", m.group(8), PORT, at(_ENDPOINT_PORT_AT, m.end())))
        else:
            out.append(m.group(9) + place("port", m.group(10), PORT, at(_PORT_AT, m.end())))
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return _Places("".join(out), first, counters)


def compile_template(text: str, ips: list[str], ports: list[str], counter_lines: list[str], recipe: Any,
                     wanted: list[int] | None, known: list[_Compiled] | None = None) -> _Compiled | None:
    """The template of ``text`` (a Service's footprint as the input has it, its name masked), with the
    groups that give audit._values' addresses, ports and the counters ``wanted`` (indexes into
    ``counter_lines``: the footprint's lines with counters, as audit._pkts counts them); None when a
    value the recipe reads has no place of its own here, or the text is over MOST_CHARS (then the
    Service's kind is not compiled). A template of ``known`` with the same pattern (the Service's .0
    addresses elsewhere) takes this one as a variant, not compiled again, and is returned."""
    if len(text) > MOST_CHARS:
        return None
    wanted = list(wanted or ())
    places = _places(text, {counter_lines[i] for i in wanted})
    by_value: dict[str, dict[str, int]] = {"ip": {}, "port": {}, "hash": {}}
    for (kind, value), g in places.first.items():
        by_value[kind][value] = g - 1  # (groups() is 0-based)
    ip_groups = [by_value["ip"].get(v) for v in ips]
    port_groups = [by_value["port"].get(v) for v in ports]
    # the counters the recipe sums: their lines here (a line held twice: which one a path counts cannot be told)
    found = [places.counters.get(counter_lines[i], []) for i in wanted]
    counter_groups = [g[0] - 1 if len(g) == 1 else None for g in found]
    if None in ip_groups or None in port_groups or None in counter_groups:
        return None
    variant = _Variant(recipe, _getter(ip_groups), _getter(port_groups), wanted, _getter(counter_groups))  # type: ignore[arg-type]
    dot_zero = tuple([v.endswith(".0") for v in by_value["ip"]])
    for c in known or ():
        if c.pattern.pattern == places.pattern:
            c.variants.setdefault(dot_zero, variant)
            return c
    try:
        pattern = re.compile(places.pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    firsts = [g - 1 for g in places.first.values()]
    return _Compiled(pattern, operator.itemgetter(*firsts) if len(firsts) > 1 else None, len(firsts),
                     _getter(list(by_value["ip"].values())), {dot_zero: variant})


_DOT_ZERO = itertools.repeat(".0")  # (str.endswith's argument for each address: map() stops at the shortest)


def _match(c: _Compiled, text: str) -> tuple[Any, Matched] | None:
    m = c.pattern.fullmatch(text)
    if m is None:
        return None
    g = m.groups()
    v = c.variants.get(tuple(map(str.endswith, c.addresses(g), _DOT_ZERO)))
    if v is None:
        return None  # (its addresses end in .0 elsewhere: the analysis may tell them apart; not learnt yet)
    if c.distinct is not None and len(set(c.distinct(g))) != c.n_distinct:
        return None  # distinct values stay distinct: the renaming is one to one
    return v.recipe, Matched(dict(zip(v.wanted, v.counters(g), strict=True)), v.ips(g), v.ports(g))


@dataclass(slots=True)
class Shape:
    """The compiled templates of one shape of Service, the one that matched last first, and how often its
    texts were tried and matched."""

    templates: list[_Compiled]
    tried: int = 0
    matched: int = 0


class Matchers:
    """The compiled templates, by a shape of Service cheap to tell (audit.FastAudit._shape)."""

    def __init__(self) -> None:
        self.by_shape: dict[Hashable, Shape] = {}
        self.made: dict[Hashable, int] = {}  # template key -> times its key was made (audit.py's way)
        self.dropped: set[Hashable] = set()  # shapes whose texts mostly matched none of its templates
        self.spent = 0.0  # seconds spent compiling
        self.started = time.perf_counter()

    def match(self, shape: Hashable, text: str, known: Shape | None = None) -> tuple[Any, Matched] | None:
        """The recipe and values of the first compiled template of this shape that ``text`` matches
        (the one that matched last is tried first; ``known``: the shape's entry, looked up already).
        A shape whose texts mostly match none is dropped: its Services then take audit.py's way
        without reading their text twice."""
        known = known or self.by_shape.get(shape)
        if known is None:
            return None
        known.tried += 1
        templates = known.templates
        for i, c in enumerate(templates):
            found = _match(c, text)
            if found is not None:
                known.matched += 1
                if i:
                    templates.insert(0, templates.pop(i))
                return found
        if known.tried >= _TRIES and known.matched * 2 < known.tried:
            del self.by_shape[shape]
            self.dropped.add(shape)
        return None

    def worth_learning(self, key: Hashable) -> bool:
        """Count a template key made the long way; True when its template is now worth compiling."""
        n = self.made.get(key, 0) + 1
        self.made[key] = n
        return n == LEARN_AFTER and self.spent <= _FREE + _BUDGET * (time.perf_counter() - self.started)

    def learn(self, shape: Hashable, make: Callable[[list[_Compiled]], _Compiled | None]) -> None:
        """``make(templates)``: the shape's new template, or the one of ``templates`` it is a variant of."""
        known = self.by_shape.get(shape)
        if shape in self.dropped or (known is not None and len(known.templates) >= _PER_SHAPE):
            return
        t0 = time.perf_counter()
        compiled = make(known.templates if known is not None else [])
        self.spent += time.perf_counter() - t0
        if compiled is not None:  # (a shape is listed only with a template: else its Services would read their text for nothing)
            self.add(shape, compiled)

    def add(self, shape: Hashable, compiled: _Compiled) -> None:
        known = self.by_shape.get(shape)
        if known is None:
            self.by_shape[shape] = Shape([compiled])
        elif not any(c is compiled for c in known.templates):
            known.templates.append(compiled)


_STARTS_COUNTER = operator.methodcaller("startswith", "[")


def counter_lines(footprint_text: str, ref: str) -> list[str]:
    """The footprint's lines audit._pkts numbers (those starting with "["), the Service's name masked."""
    return [line.replace(ref, "\x01") for line in filter(_STARTS_COUNTER, footprint_text.split("\n"))]

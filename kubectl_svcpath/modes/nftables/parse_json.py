"""Read ``nft -j list table|ruleset`` output (libnftables JSON, schema v1) into an NftRuleset.

Objects keep a JSON pointer into the document (``file.json#/nftables/7``) so evidence can
name the exact object. Commands wrapped as ``{"add": {...}}`` (the JSON transaction form)
are read like listed objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.gc_pause import paused_gc
from kubectl_svcpath.modes.nftables.model import (
    LazyChains,
    Loc,
    NftChain,
    NftDumpInfo,
    NftElement,
    NftRule,
    NftRuleset,
    NftSet,
    Verdict,
    normalize_key,
    verdict_of,
)

_COMMANDS = ("add", "create", "insert", "replace")


def looks_like_nft_json(text: str) -> bool:
    """True for ``nft -j`` output: a JSON object whose first key is "nftables" (under the ``#`` lines the paste cleaner
    made of the command's prompt line, if any)."""
    head = text.lstrip()
    while head.startswith("#"):
        head = head[head.find("\n") + 1:].lstrip() if "\n" in head else ""
    head = head[:200]
    return head.startswith("{") and '"nftables"' in head.split(":", 1)[0]


def parse_nft_json(text: str, source: str) -> NftRuleset:
    with paused_gc(len(text)):
        try:
            try:
                return _parse_indexed(text, source)
            except (_Irregular, BadDump, TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError):
                # a layout the index does not take, or bad input: the whole document at once, which says
                # exactly what is wrong (the first problem in document order, as json.loads finds it)
                return _parse(text, source)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
            # valid JSON whose objects do not have the shapes libnftables writes (a list where
            # a name belongs, a string where an object does): not `nft -j` output
            raise BadDump(source, f"JSON that is not shaped like `nft -j` output ({type(e).__name__}: {str(e)[:80]})",
                          hint="pass the complete output of `nft -j list table ip kube-proxy`") from None


def _parse(text: str, source: str) -> NftRuleset:
    info = NftDumpInfo(source=source, form="nft-json")
    ruleset = NftRuleset(dumps=[info])
    rules = _Rules(ruleset, info, source)
    for i, item in enumerate(_load(text, source)):
        kind, body, loc = _unwrap(i, item, source)
        if kind == "rule":  # the bulk of a big table: kept lean
            rules.add(i, body, loc)
        else:
            _read_object(ruleset, info, kind, i, body, loc)
    return ruleset


# --- the index: every object decoded once, in document order, and dropped; chains kept as places ----

class _Irregular(Exception):
    """The document is not laid out as ``{"nftables": [ … ]}`` with nothing after the list."""


_HEAD = re.compile(r'[ \t\n\r]*\{[ \t\n\r]*"nftables"[ \t\n\r]*:[ \t\n\r]*\[[ \t\n\r]*')
_PLAIN_CHAIN = {"family", "table", "name", "handle"}
_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # json.loads' C scanner, on text already checked
_NEXT = re.compile(r'[ \t\n\r]*(?:(,)[ \t\n\r]*|\][ \t\n\r]*\}[ \t\n\r]*\Z)')


def _items(text: str) -> Iterator[tuple[int, int, Any]]:
    """(start, end, object) of each item of the top-level list; _Irregular or ValueError (not JSON)
    as soon as the document is not ``{"nftables": [ … ]}``."""
    m = _HEAD.match(text)
    if m is None:
        raise _Irregular
    decode = json.JSONDecoder().raw_decode
    pos = m.end()
    if text.startswith("]", pos):
        if not _NEXT.match(text, pos):
            raise _Irregular
        return
    while True:
        obj, end = decode(text, pos)
        yield pos, end, obj
        m = _NEXT.match(text, end)
        if m is None:
            raise _Irregular
        if m.group(1) is None:
            return
        pos = m.end()


def _parse_indexed(text: str, source: str) -> NftRuleset:
    """The whole document checked object by object, as json.loads would, but only tables, sets and
    maps kept: each chain is a place in ``text`` (its declaration, its runs of rules), read when
    the analysis asks for it (``LazyChains``). A 35 MB table: ~30 MB held instead of ~300 MB."""
    info = NftDumpInfo(source=source, form="nft-json")
    ruleset = NftRuleset(dumps=[info])
    index = _Index(ruleset, info, text, source)
    for i, (start, end, item) in enumerate(_items(text)):
        kind, body, loc = _unwrap(i, item, source)
        if kind == "rule":
            index.rule(i, start, end, body)
        elif kind == "chain":
            index.chain(i, start, end, body, wrapped=len(loc.path or ()) == 3)
        else:
            _read_object(ruleset, info, kind, i, body, loc)
            if kind == "table":
                index.table(body["family"], body["name"])
    return ruleset


class _Index:
    """Where each chain's objects are: ``LazyChains`` places, flat int lists of (rules, start, end,
    item) groups (rules = 0 for a declaration, else how many rules the run holds). A declaration of
    a regular chain as nft lists it (family, table, name, handle) is (0, -1, handle, item)."""

    def __init__(self, ruleset: NftRuleset, info: NftDumpInfo, text: str, source: str) -> None:
        self.ruleset, self.info, self.text, self.source = ruleset, info, text, source
        self.last_key: tuple[str, str, str] | None = None  # the chain of the last rule, and its place
        self.last_place: list[int] = []

    def table(self, family: str, name: str) -> LazyChains:
        table = self.ruleset.ensure_table(family, name)
        if not isinstance(table.chains, LazyChains):
            table.chains = LazyChains.holding(table.chains, partial(_make_chain, self.text, self.source),
                                              partial(_chain_text, self.text), text_json=True)
        return table.chains

    def _place(self, family: str, table: str, name: str) -> list[int]:
        chains = self.table(family, table)
        place = chains.where(name)
        if place is None:
            place = []
            chains.index(name, place)
        return place

    def chain(self, i: int, start: int, end: int, body: dict[str, Any], wrapped: bool) -> None:
        family, table = _req(body, "family", self.source, i), _req(body, "table", self.source, i)
        name = _req(body, "name", self.source, i)
        handle = body.get("handle")
        if not wrapped and body.keys() <= _PLAIN_CHAIN and type(handle) is int and handle >= 0:
            self._place(family, table, name).extend((0, -1, handle, i))  # nothing to decode again but its handle
        else:
            self._place(family, table, name).extend((0, start, end, i))
        if body.get("hook") is not None:
            hooked = self.table(family, table).hooked
            if name not in hooked:
                hooked.append(name)

    def rule(self, i: int, start: int, end: int, body: dict[str, Any]) -> None:
        key, exprs = _rule_of(body, i, self.source)
        family, table, chain = key
        place = self.last_place
        if self.last_key == key and place and place[-4] and place[-1] + place[-4] == i:
            place[-4] += 1  # the next rule of the same run: one more, and the run ends here now
            place[-2] = end
        else:
            place = self.last_place = self._place(family, table, chain)
            place.extend((1, start, end, i))
            self.last_key = key
        if any("counter" in e for e in exprs):
            self.info.has_counters = True
            if any(isinstance(e.get("counter"), dict) and "packets" in e["counter"] for e in exprs):
                self.table(family, table).counted = True


def _make_chain(text: str, source: str, name: str, place: list[int]) -> NftChain:
    """A chain from its place in the document (decoded again: each object is a few hundred bytes)."""
    chain = NftChain(name, declared=False)
    rules = chain.rules
    groups = range(0, len(place), 4)
    decoded, _ = _SCAN("[" + ", ".join(text[place[g + 1]:place[g + 2]] for g in groups if place[g + 1] >= 0) + "]", 0)
    k = 0
    for g in groups:
        item = place[g + 3]
        if place[g + 1] < 0:  # a plain declaration: its handle was kept (type, hook, … are None)
            chain.declared = True
            chain.loc = chain.loc or Loc(source, path=(item, "chain"))
            chain.handle = place[g + 2]
            chain.type = chain.hook = chain.prio = chain.policy = chain.comment = None  # as _declare leaves them
            continue
        for j in range(place[g] or 1):
            obj = decoded[k]
            k += 1
            body = obj.get("rule") if len(obj) == 1 else None
            if body is not None:  # as nft lists it, no command around it: the common case, made directly
                loc = Loc(source, path=(item + j, "rule"))
            else:
                kind, body, loc = _unwrap(item + j, obj, source)
                if kind != "rule":
                    _declare(chain, body, loc)
                    continue
            rules.append(NftRule(body["family"], body["table"], name, len(rules) + 1, body.get("expr", []),
                                 _string_field(body, "comment", loc), body.get("handle"), loc))
    return chain


def _chain_text(text: str, place: list[int]) -> str:
    """A chain's objects as the document writes them (a plain declaration as "decl"), unread."""
    return "\n".join(text[place[g + 1]:place[g + 2]] if place[g + 1] >= 0 else "decl" for g in range(0, len(place), 4))


def _declare(chain: NftChain, body: dict[str, Any], loc: Loc | None) -> None:
    """A ``chain`` object's facts (the first declaration is where the chain is said to be)."""
    chain.declared = True
    chain.loc = chain.loc or loc
    chain.handle, chain.type, chain.hook = body.get("handle"), _string_field(body, "type", loc), _string_field(body, "hook", loc)
    chain.prio, chain.policy, chain.comment = body.get("prio"), _string_field(body, "policy", loc), _string_field(body, "comment", loc)


def _load(text: str, source: str) -> list[Any]:
    """The top-level ``nftables`` list, or BadDump saying why this is not ``nft -j`` output."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        line = getattr(e, "lineno", None)
        raise BadDump(source, f"not valid JSON ({getattr(e, 'msg', e)})", line,
                      hint="pass the complete output of `nft -j list table ip kube-proxy`") from None
    except RecursionError:  # nft -j nests a few levels: this is not its output
        raise BadDump(source, "JSON nested too deeply to be `nft -j` output") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nftables"), list):
        raise BadDump(source, 'JSON without a top-level "nftables" list: not `nft -j` output')
    return doc["nftables"]


def _unwrap(i: int, item: Any, source: str) -> tuple[str, dict[str, Any], Loc]:
    """``{"rule": {...}}`` or, in transaction form, ``{"add": {"rule": {...}}}`` -> (kind, body, where)."""
    if not isinstance(item, dict) or len(item) != 1:
        raise BadDump(source, f"item {i} of the nftables list is not a one-key object")
    (kind, body), = item.items()
    wrapper = None
    if kind in _COMMANDS and isinstance(body, dict) and len(body) == 1:
        wrapper = kind
        (kind, body), = body.items()
    if not isinstance(body, dict):
        raise BadDump(source, f"item {i} ({kind}) is not an object")
    return kind, body, Loc(source, path=(i, wrapper, kind) if wrapper else (i, kind))


class _Rules:
    """Appends rules to their chains; consecutive rules of one chain look the chain up once."""

    def __init__(self, ruleset: NftRuleset, info: NftDumpInfo, source: str) -> None:
        self.ruleset, self.info, self.source = ruleset, info, source
        self.last_key: tuple[str, str, str] | None = None
        self.chain: NftChain | None = None

    def add(self, i: int, body: dict[str, Any], loc: Loc) -> None:
        key, exprs = _rule_of(body, i, self.source)
        if key != self.last_key or self.chain is None:
            self.chain = self.ruleset.ensure_table(key[0], key[1]).ensure_chain(key[2])
            self.last_key = key
        rules = self.chain.rules
        rules.append(NftRule(key[0], key[1], key[2], len(rules) + 1, exprs, _string_field(body, "comment", loc),
                             body.get("handle"), loc))
        if not self.info.has_counters and any("counter" in e for e in exprs):
            self.info.has_counters = True


def _rule_of(body: dict[str, Any], i: int, source: str) -> tuple[tuple[str, str, str], list[dict[str, Any]]]:
    """Item ``i``, a rule: its chain's (family, table, name) and its expressions; BadDump when it lacks either."""
    try:
        key = (body["family"], body["table"], body["chain"])
    except KeyError as e:
        raise BadDump(source, f"item {i} lacks {e.args[0]!r}") from None
    exprs = body.get("expr", [])
    if not isinstance(exprs, list) or not all(isinstance(e, dict) for e in exprs):
        raise BadDump(source, f"rule in chain {key[2]!r} has a malformed expr list (item {i})")
    return key, exprs


def _read_object(ruleset: NftRuleset, info: NftDumpInfo, kind: str, i: int, body: dict[str, Any], loc: Loc) -> None:
    """Everything but rules; other objects (flowtable, counter, quota, ct helper, limit, secmark) do not route packets."""
    source = info.source
    if kind == "metainfo":
        info.nft_version = body.get("version")
        info.json_schema_version = body.get("json_schema_version")
    elif kind == "table":
        table = ruleset.ensure_table(_req(body, "family", source, i), _req(body, "name", source, i))
        table.handle, table.comment, table.loc = body.get("handle"), _string_field(body, "comment", loc), loc
    elif kind == "chain":
        table = ruleset.ensure_table(_req(body, "family", source, i), _req(body, "table", source, i))
        _declare(table.declare_chain(_req(body, "name", source, i), loc), body, loc)
    elif kind in ("set", "map"):
        table = ruleset.ensure_table(_req(body, "family", source, i), _req(body, "table", source, i))
        table.sets[_req(body, "name", source, i)] = _read_set(kind, body, loc, source)
    elif kind == "element":
        # {"element": {"family", "table", "name", "elem": [...]}} (transaction form)
        table = ruleset.ensure_table(_req(body, "family", source, i), _req(body, "table", source, i))
        target = table.sets.get(_req(body, "name", source, i))
        if target is None:
            raise BadDump(source, f"element for undeclared set/map {body['name']!r} (item {i})")
        for j, raw in enumerate(_as_list(body.get("elem"))):
            target.add(_read_element(raw, target, Loc(source, path=(*_path(loc), "elem", j))))


def _req(body: dict[str, Any], key: str, source: str, i: int) -> Any:
    value = body.get(key)
    if value is None:
        raise BadDump(source, f"item {i} lacks {key!r}")
    if not isinstance(value, str):
        raise BadDump(source, f"item {i}: {key!r} is not a string")
    return value


def _string_field(body: dict[str, Any], key: str, loc: Loc | None) -> str | None:
    """An object's ``key`` that nft -j writes as a string or not at all (a comment, a chain's type, hook or
    policy); anything else (a number, a list) is one error line, not a traceback where it is read as text."""
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    where = loc.pointer if loc and loc.pointer else "an object"
    raise BadDump(loc.source if loc else "nft", f"{where}: a {key} that is not a string ({_JSON_KINDS.get(type(value), 'another value')})",
                  hint="pass the complete output of `nft -j list table …`")


_JSON_KINDS = {dict: "an object", list: "an array", int: "a number", float: "a number", bool: "true or false"}


def _path(loc: Loc) -> tuple[Any, ...]:
    return loc.path if isinstance(loc.path, tuple) else ()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _read_set(kind: str, body: dict[str, Any], loc: Loc, source: str) -> NftSet:
    types = body.get("type")
    types = tuple(types) if isinstance(types, list) else ((types,) if types else ())
    flags = body.get("flags") or ()
    flags = (flags,) if isinstance(flags, str) else tuple(flags)
    s = NftSet(
        name=body["name"],
        kind=kind,
        type=types,
        map_type=body.get("map") if kind == "map" else None,
        flags=flags,
        timeout=body.get("timeout"),
        size=body.get("size"),
        comment=_string_field(body, "comment", loc),
        loc=loc,
        handle=body.get("handle"),
    )
    for j, raw in enumerate(_as_list(body.get("elem"))):
        s.add(_read_element(raw, s, Loc(source, path=(*_path(loc), "elem", j))))
    return s


def _read_element(raw: Any, owner: NftSet, loc: Loc) -> NftElement:
    value: Verdict | Any | None = None
    if owner.kind == "map" and isinstance(raw, list) and len(raw) == 2:
        raw, data = raw
        value = verdict_of(data) if isinstance(data, dict) and verdict_of(data) else data
    comment = timeout = expires = None
    if isinstance(raw, dict) and isinstance(raw.get("elem"), dict):
        e = raw["elem"]
        comment, timeout, expires = _string_field(e, "comment", loc), e.get("timeout"), e.get("expires")
        raw = e.get("val")
    parts = raw["concat"] if isinstance(raw, dict) and "concat" in raw else raw
    key = normalize_key(parts, owner.type)
    hash(key)  # an element key libnftables writes is a value or a tuple of values (TypeError: not nft -j)
    return NftElement(key, value, comment, timeout, expires, loc)

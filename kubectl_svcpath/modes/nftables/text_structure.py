"""The structure of nft's text forms: tables, chains, sets and maps, their elements, and the
transaction commands (``add|delete|flush table|chain|set|map|rule|element …``), read from tokens
into an NftRuleset. A rule's statements go to ``text_statements``.

A chain or set has one body reader whether it is listed (``table … { chain c { … } }``) or added
by a command (``add chain ip t c { … }``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from functools import partial

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.nftables.model import (
    FAMILIES,
    LazyChains,
    Loc,
    NftChain,
    NftDumpInfo,
    NftElement,
    NftRule,
    NftRuleset,
    NftSet,
    NftTable,
    normalize_key,
    render_element,
)
from kubectl_svcpath.modes.nftables.detect import COMMANDS
from kubectl_svcpath.modes.nftables.text_index import ELEMENTS, LAZY, Blocks, elements, pack, unpack
from kubectl_svcpath.modes.nftables.text_statements import element_value, int_or_none, parse_statements, seconds
from kubectl_svcpath.modes.nftables.text_tokens import LISTING_HINT, NL, STR, WORD, Cursor, Token, shown, tokenize

_PRIORITY_NAMES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100, "out": 100}
_INERT_OBJECTS = ("flowtable", "counter", "quota", "ct", "limit", "secmark", "synproxy")  # do not route packets


class StructureReader:
    """Reads a whole token list into ``ruleset``; ``info`` records what the input showed.

    With ``blocks`` (text_index): a ``LAZY`` token in a table stands for that chain block of
    ``text``, recorded as the chain's place and read when the chain is looked up."""

    def __init__(self, tokens: list[Token], source: str, text: str = "", blocks: Blocks | None = None,
                 info: NftDumpInfo | None = None) -> None:
        self.c = Cursor(tokens)
        self.source = source
        self.info = info or NftDumpInfo(source=source, form="nft-text")
        self.ruleset = NftRuleset(dumps=[self.info])
        self.saw_command = False
        self.saw_block = False
        self.text, self.blocks = text, blocks  # blocks: only where the skeleton put LAZY tokens
        self.block_tables: dict[int, NftTable] = {}  # block number -> the table it was found in
        # (table, chain) -> the lines of its blocks read so far; chains whose blocks differ (several moments)
        self.listed: dict[tuple[str, str], list[int]] = {}
        self.differs: set[tuple[str, str]] = set()

    @property
    def line(self) -> int:
        """The line being read (the last one at the end)."""
        toks = self.c.toks
        if self.c.i < len(toks):
            return toks[self.c.i].line
        return toks[-1].line if toks else 1

    def _err(self, reason: str, line: int | None = None) -> BadDump:
        return BadDump(self.source, reason, line or self.line, hint=LISTING_HINT)

    def _next(self) -> Token:
        if self.c.done():
            raise self._err("unexpected end of input (truncated dump?)")
        return self.c.take()

    def _expect(self, value: str) -> None:
        tok = self._next()
        if tok.value != value or tok.kind == STR:
            raise self._err(f"expected {value!r}, found {tok.value!r}", tok.line)

    def _name(self) -> str:
        tok = self._next()
        if tok.kind not in (WORD, STR):
            raise self._err(f"expected a name, found {tok.value!r}", tok.line)
        return tok.value

    def _opens_block(self) -> bool:
        """Consume a ``{`` if one comes next."""
        tok = self.c.at()
        if tok is not None and tok.is_punct("{"):
            self.c.i += 1
            return True
        return False

    def _family_and(self, count: int) -> tuple[str, list[str]]:
        """``[family] name…``: the family defaults to ip, as in nft."""
        tok = self.c.at()
        family = "ip"
        if tok and tok.kind == WORD and tok.value in FAMILIES:
            # "ip" may also be a table name: only a family if enough names follow
            i = self.c.i
            ahead = [t for t in self.c.toks[i + 1:i + 1 + count] if t.kind in (WORD, STR)]
            if len(ahead) == count:
                family = self._next().value
        return family, [self._name() for _ in range(count)]

    def _body(self, what: str) -> Iterator[Token]:
        """Each next token of a ``{ … }`` body, until its ``}``; an error when the input ends first."""
        while True:
            self.c.skip_separators()
            tok = self.c.at()
            if tok is None:
                raise self._err(f"{what} is not closed (truncated dump?)")
            if tok.is_punct("}"):
                self.c.i += 1
                return
            yield tok

    def _skip_block(self) -> None:
        depth = 0
        while True:
            tok = self._next()
            if tok.is_punct("{"):
                depth += 1
            elif tok.is_punct("}"):
                depth -= 1
                if depth <= 0:
                    return

    # --- top level and tables ----------------------------------------------------------

    def read(self) -> None:
        self._read()
        self.info.relisted = [(t, c, self.listed[(t, c)]) for t, c in sorted(self.differs, key=lambda k: self.listed[k][-1])]

    def _read(self) -> None:
        while True:
            self.c.skip_separators()
            tok = self.c.at()
            if tok is None:
                break
            if tok.kind == WORD and tok.value == "table":
                self.c.i += 1
                self.saw_block = True
                family, (name,) = self._family_and(1)
                table = self._table(family, name, tok.line)
                self._expect("{")
                self._table_body(table)
            elif tok.kind == WORD and tok.value in COMMANDS:
                self.c.i += 1
                self.saw_command = True
                self._command(tok.value, tok.line)
            else:
                raise self._err(f"unexpected {tok.value!r}: not nft list output or an nft command", tok.line)

    def _table(self, family: str, name: str, line: int) -> NftTable:
        table = self.ruleset.ensure_table(family, name)
        table.loc = table.loc or Loc(self.source, line)
        return table

    def _table_body(self, table: NftTable) -> None:
        while True:
            self.c.skip_separators()
            tok = self._next()
            word = tok.value
            if tok.is_punct("}"):
                return
            if tok.kind == LAZY:
                self._lazy_chains(table, word)
            elif word == "comment":
                table.comment = self._name()
            elif word == "flags":
                self.c.statement()
            elif word in ("chain", "set", "map"):
                self._member(table, word, self._name(), tok.line, block=True)
            elif word in _INERT_OBJECTS:
                self._skip_block()
            else:
                raise self._err(f"unexpected {word!r} in table {table.ref}", tok.line)

    def _member(self, table: NftTable, obj: str, name: str, line: int, block: bool) -> None:
        """A chain, set or map declared, then its ``{ … }`` body (required when listed, optional in a command)."""
        if obj == "chain":
            chain = table.declare_chain(name, Loc(self.source, line))
            if self._block(block):
                self._chain_block(table, chain, line)
        else:
            s = table.sets.get(name)
            if s is None:
                s = table.sets[name] = NftSet(name, kind=obj, loc=Loc(self.source, line))
            if self._block(block):
                self._set_block(table, s, obj, line)

    def _chain_block(self, table: NftTable, chain: NftChain, line: int) -> None:
        """A chain's ``{ … }`` as listed. Listed again in the same table (two listings pasted together, e.g. ``nft
        list table`` then ``nft list chain``): the same rules are read once; other rules are a later moment's, which
        replace the earlier (as iptables -S and grep pastes are read: their last listing)."""
        key = (table.ref, chain.name)
        lines = self.listed.setdefault(key, [])
        lines.append(line)
        if len(lines) == 1:
            self._chain_body(table, chain)
            return
        again = NftChain(chain.name)
        self._chain_body(table, again)
        if [r.exprs for r in again.rules] != [r.exprs for r in chain.rules]:
            self.differs.add(key)
            chain.rules, chain.loc = again.rules, Loc(self.source, line)
            chain.type, chain.hook, chain.prio, chain.policy, chain.comment = (
                again.type, again.hook, again.prio, again.policy, again.comment)
        else:
            lines.pop()  # (the same listing again: nothing to say)

    def _set_block(self, table: NftTable, s: NftSet, obj: str, line: int) -> None:
        """A set's or map's ``{ … }`` as listed; listed again in the same table, read as a chain is (_chain_block):
        the same elements once, other elements a later moment's, which replace the earlier."""
        key = (table.ref, f"{obj} {s.name}")
        lines = self.listed.setdefault(key, [])
        lines.append(line)
        if len(lines) == 1:
            self._set_body(s)
            return
        again = NftSet(s.name, kind=obj, loc=Loc(self.source, line))
        self._set_body(again)
        if [(e.key, e.value) for e in again.elements] != [(e.key, e.value) for e in s.elements]:
            self.differs.add(key)
            table.sets[s.name] = again
        else:
            lines.pop()

    def _block(self, required: bool) -> bool:
        if required:
            self._expect("{")
            return True
        return self._opens_block()

    # --- chains ------------------------------------------------------------------------

    def _lazy_chains(self, table: NftTable, run: str) -> None:
        """Chain blocks ``first-last`` (text_index): their places, each read when asked."""
        first, _, last = run.partition("-")
        for k in range(int(first), int(last) + 1):
            self._lazy_chain(table, k)

    def _lazy_chain(self, table: NftTable, k: int) -> None:
        """Chain block ``k``: its place, read when asked; read now into a chain already read."""
        assert self.blocks is not None
        name, start, end, line = self.blocks[k]
        self.saw_block = True
        self.block_tables[k] = table
        chains = table.chains
        made = chains.made(name) if isinstance(chains, LazyChains) else chains.get(name)
        if made is not None:  # a command already read it: this block adds to that chain
            self.read_block(table, made, start, end, line)
            return
        if not isinstance(chains, LazyChains):
            chains = table.chains = LazyChains.holding(
                chains, partial(_make_chain, self.text, self.source, self.info, table.family, table.name),
                partial(_block_text, self.text))
        place = chains.where(name)
        packed = pack(start, end, line)
        if place is None:
            chains.index(name, packed)
            self.listed[(table.ref, name)] = [line]
        elif isinstance(place, list):  # (read before by a command as well: each of its blocks, in order)
            chains.index(name, [*place, packed])
        elif _same_block(self.text, place, start, end):
            pass  # listed again with the same rules (nft list table, then nft list chain): read once
        else:  # listed again with other rules: two moments pasted together, the later one read (_chain_block)
            chains.index(name, packed)
            self.listed.setdefault((table.ref, name), [unpack(place)[2]]).append(line)
            self.differs.add((table.ref, name))
            if name in chains.hooked:
                chains.hooked.remove(name)  # (its later listing's own hook line, if any, puts it back)
        if name not in chains.hooked and self.text.find(" hook ", start, end) >= 0:  # (a superset: made, then checked)
            chains.hooked.append(name)

    def read_block(self, table: NftTable, chain: NftChain, start: int, end: int, line: int) -> None:
        """One chain block of ``text`` (``chain NAME { … }``) into ``chain``: its rules and base-chain facts."""
        outer, self.c = self.c, Cursor(tokenize(self.text[start:end], self.source, line))
        try:
            chain.loc = chain.loc or Loc(self.source, line)
            chain.declared = True
            self._expect("chain")
            self._name()
            self._expect("{")
            self._chain_body(table, chain)
            self.c.skip_separators()
            if not self.c.done():
                raise self._err(f"unexpected {self.c.peek()!r} after chain {chain.name}")
        finally:
            self.c = outer

    def _chain_body(self, table: NftTable, chain: NftChain) -> None:
        for tok in self._body(f"chain {chain.name}"):
            stmt = self.c.statement()
            if not stmt:
                continue
            head = stmt[0].value
            if head == "type" and stmt[0].kind == WORD:
                _chain_spec(chain, [t.value for t in stmt])
            elif head == "policy":
                chain.policy = stmt[1].value.rstrip(";") if len(stmt) > 1 else None
            elif head == "comment" and len(stmt) == 2 and stmt[1].kind == STR:
                chain.comment = stmt[1].value
            elif head not in ("devices", "device", "flags"):
                self._add_rule(table, chain, stmt, tok.line)

    def _add_rule(self, table: NftTable, chain: NftChain, stmt: list[Token], line: int, first: bool = False) -> None:
        exprs, comment = parse_statements(stmt)
        rule = NftRule(table.family, table.name, chain.name, 0, exprs, comment=comment,
                       loc=Loc(self.source, line), text=shown(stmt))
        if first:
            chain.rules.insert(0, rule)
        else:
            chain.rules.append(rule)
        for pos, r in enumerate(chain.rules, 1) if first else ((len(chain.rules), rule),):
            r.position = pos
        if rule.counter is not None:
            self.info.has_counters = True

    # --- sets and maps -----------------------------------------------------------------

    def _set_body(self, s: NftSet) -> None:
        for _ in self._body(f"set {s.name}"):
            word = self._next().value
            if word == "type":
                words = [t.value for t in self.c.statement()]
                if ":" in words:
                    j = words.index(":")
                    s.kind = "map"
                    s.map_type = " ".join(words[j + 1:])
                    words = words[:j]
                s.type = tuple(w for w in words if w != ".")
            elif word == "typeof":
                s.type = (" ".join(t.value for t in self.c.statement()),)
            elif word == "flags":
                s.flags = tuple(t.value for t in self.c.statement() if t.value != ",")
            elif word == "timeout":
                s.timeout = seconds(self._name())
            elif word == "size":
                s.size = int_or_none(self._name())
            elif word == "comment":
                s.comment = self._name()
            elif word == "elements":
                self._expect("=")
                self._expect("{")
                self._elements(s)
            else:  # gc-interval, policy, auto-merge, counter: nothing that routes packets
                self.c.statement()

    def _elements(self, s: NftSet) -> None:
        """Element list after '{' up to the matching '}'."""
        current: list[Token] = []
        depth = 0
        while True:
            tok = self._next()
            if tok.kind == NL:
                continue
            if tok.kind == ELEMENTS:  # the list as nft prints it, read one element at a time (text_index)
                for toks in elements(self.text, tok.value, tok.line, self.source):
                    s.add(self._element(s, toks))
                continue
            if tok.is_punct("{"):
                depth += 1
            elif tok.is_punct("}"):
                if depth == 0:
                    if current:
                        s.add(self._element(s, current))
                    return
                depth -= 1
            elif tok.is_punct(",") and depth == 0:
                if current:
                    s.add(self._element(s, current))
                current = []
                continue
            current.append(tok)

    def _element(self, s: NftSet, toks: list[Token]) -> NftElement:
        key_parts: list[str] = []
        comment = timeout = expires = None
        value = None
        j = 0
        while j < len(toks):
            kind, w = toks[j].kind, toks[j].value
            has_arg = j + 1 < len(toks)
            if kind == WORD and w == ":":
                value = element_value([t.value for t in toks[j + 1:]])
                break
            if kind == WORD and w == "comment" and has_arg:
                comment = toks[j + 1].value
            elif kind == WORD and w == "timeout" and has_arg:
                timeout = seconds(toks[j + 1].value)
            elif kind == WORD and w == "expires" and has_arg:
                expires = seconds(toks[j + 1].value)
            elif kind == WORD and w == "counter":
                j += 1
                while j < len(toks) and toks[j].value in ("packets", "bytes"):
                    j += 2
                continue
            else:
                if w != ".":
                    key_parts.append(w)
                j += 1
                continue
            j += 2
        if s.kind != "map" and value is not None:
            s.kind = "map"
        element = NftElement(normalize_key(key_parts, s.type), value, comment, timeout, expires,
                             Loc(self.source, toks[0].line), shown(toks))
        if element.text == render_element(element):
            element.text = None  # rendered again when asked, the same: 10,000-element maps hold no copy
        return element

    # --- commands (transaction form) ---------------------------------------------------

    def _command(self, verb: str, line: int) -> None:
        obj = self._next().value
        if obj == "table":
            self._cmd_table(verb, line)
        elif obj in ("chain", "set", "map"):
            self._cmd_member(verb, obj, line)
        elif obj == "element":
            self._cmd_element(verb, line)
        elif obj == "rule":
            self._cmd_rule(verb, line)
        elif obj == "ruleset" and verb == "flush":
            self.ruleset.tables.clear()
        else:
            self.c.statement()  # other objects (flowtable, counter, …) do not route packets

    def _cmd_table(self, verb: str, line: int) -> None:
        family, (name,) = self._family_and(1)
        table = self._table(family, name, line)
        if verb in ("delete", "destroy"):
            self.ruleset.tables.pop((family, name), None)
            self.c.statement()
        elif verb == "flush":
            for chain in table.chains.values():
                chain.rules.clear()
            for s in table.sets.values():
                s.clear()
        elif self._opens_block():
            self._table_body(table)

    def _cmd_member(self, verb: str, obj: str, line: int) -> None:
        """``add|delete|flush chain`` / ``set`` / ``map`` FAMILY TABLE NAME [{ … }]."""
        family, (tname, name) = self._family_and(2)
        table = self.ruleset.ensure_table(family, tname)
        if verb in ("delete", "destroy"):
            (table.chains if obj == "chain" else table.sets).pop(name, None)
            self.c.statement()
        elif verb == "flush" and obj == "chain":
            table.ensure_chain(name).rules.clear()
        elif verb == "flush":
            flushed = table.sets.get(name)
            if flushed:
                flushed.clear()
        else:
            self._member(table, obj, name, line, block=False)

    def _cmd_element(self, verb: str, line: int) -> None:
        family, (tname, name) = self._family_and(2)
        s = self.ruleset.ensure_table(family, tname).sets.get(name)
        if s is None:
            raise self._err(f"element for undeclared set/map {name!r}", line)
        self._expect("{")
        if verb in ("delete", "destroy"):
            scratch = NftSet(name, kind=s.kind, type=s.type)
            self._elements(scratch)
            for e in scratch.elements:
                s.remove(e.key)
        else:
            self._elements(s)

    def _cmd_rule(self, verb: str, line: int) -> None:
        family, (tname, cname) = self._family_and(2)
        table = self.ruleset.ensure_table(family, tname)
        chain = table.ensure_chain(cname)
        stmt = self.c.statement()
        if verb in ("delete", "destroy"):
            return
        # "position N" / "index N" / "handle N" before the statements
        while len(stmt) >= 2 and stmt[0].value in ("position", "index", "handle"):
            stmt = stmt[2:]
        self._add_rule(table, chain, stmt, line, first=(verb == "insert"))


def _chain_spec(chain: NftChain, words: list[str]) -> None:
    """``type nat hook prerouting priority dstnat; policy accept;`` onto a base chain."""
    for key in ("type", "hook"):
        if key in words:
            j = words.index(key)
            if j + 1 < len(words):
                setattr(chain, key, words[j + 1])
    if "priority" in words:
        j = words.index("priority")
        rest = []
        for w in words[j + 1:]:
            if w in ("policy", "device", "devices"):
                break
            rest.append(w)
        chain.prio = _priority(" ".join(rest))
    if "policy" in words:
        j = words.index("policy")
        if j + 1 < len(words):
            chain.policy = words[j + 1]
    elif chain.hook and chain.policy is None:
        chain.policy = "accept"  # nft's default for a base chain


def _priority(text: str) -> int | str:
    text = text.strip().rstrip(";").strip()
    v = int_or_none(text.replace(" ", ""))
    if v is not None:
        return v
    m = re.fullmatch(r"([a-z]+)\s*(?:([+-])\s*(\d+))?", text)
    if m and m.group(1) in _PRIORITY_NAMES:
        base = _PRIORITY_NAMES[m.group(1)]
        if m.group(2):
            base += int(m.group(3)) * (1 if m.group(2) == "+" else -1)
        return base
    return text


_OFFSET = (1 << 40) - 1  # text_index.pack's fields


_HANDLE = re.compile(r"[ \t]*# handle \d+[ \t]*$", re.M)


def _same_block(text: str, place: int, start: int, end: int) -> bool:
    """Two chain blocks of one listing's text hold the same rules (their lines alike but for indentation and the
    ``# handle N`` that ``nft -a`` adds)."""
    def lines(a: int, b: int) -> list[str]:
        return [ln.strip() for ln in _HANDLE.sub("", text[a:b]).split("\n") if ln.strip()]

    first, last, _ = unpack(place)
    return lines(first, last) == lines(start, end)


def _block_text(text: str, place: int | list[int]) -> str:
    """A chain's blocks as the text holds them, unread."""
    if isinstance(place, int):
        return text[place & _OFFSET:place >> 40 & _OFFSET]
    return "\n".join(text[start:end] for start, end, _ in map(unpack, place))


def _make_chain(text: str, source: str, info: NftDumpInfo, family: str, tname: str, name: str,
                place: int | list[int]) -> NftChain:
    """A chain from its blocks' places (text_index.pack; several when the chain is listed again)."""
    chain = NftChain(name)
    reader = StructureReader([], source, text, info=info)
    table = NftTable(family, tname)  # the rules' family and table name
    for packed in place if isinstance(place, list) else [place]:
        reader.read_block(table, chain, *unpack(packed))
    return chain

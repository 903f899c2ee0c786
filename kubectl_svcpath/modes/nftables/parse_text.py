"""Read nft's text forms into an NftRuleset.

Two forms, one reader:
- ``nft list table|ruleset`` output: ``table ip kube-proxy { chain … { rules } map … { elements = {…} } }``;
- the transaction form kube-proxy and ``nft -f`` scripts use: ``add table/chain/set/map/rule/element …``
  (as in kube-proxy's own test expectations).

Rule statements are translated into the libnftables JSON shapes ``nft -j`` prints (see
``nftrules``), so correlation reads one form. Statements this reader does not know are kept as
``{"unknown": "words"}`` rather than rejected: a rule that does something else still has a
position, a verdict and a counter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.nftables.model import (
    FAMILIES,
    Loc,
    NftChain,
    NftDumpInfo,
    NftElement,
    NftRule,
    NftRuleset,
    NftSet,
    NftTable,
    Verdict,
    normalize_key,
    paused_gc,
)

NL, STR, PUNCT, WORD = "nl", "str", "punct", "word"

_COMMANDS = ("add", "create", "insert", "replace", "flush", "delete", "destroy")
_PRIORITY_NAMES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100, "out": 100}
_OPS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
        "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_VERDICT_WORDS = ("accept", "drop", "return", "continue")
_META_BARE = ("mark", "iif", "oif", "iifname", "oifname", "l4proto", "nfproto", "skuid", "skgid", "pkttype",
              "length", "protocol", "priority", "iiftype", "oiftype", "cpu", "cgroup", "random")
_PAYLOAD_PROTOS = ("ip", "ip6", "tcp", "udp", "sctp", "th", "icmp", "icmpv6", "ether", "vlan", "arp", "udplite", "dccp")
_DURATION = re.compile(r"(\d+)(d|h|m|s|ms)")
_DURATION_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def looks_like_nft_text(text: str) -> bool:
    """True for ``nft list`` output or an nft transaction (``add table|chain|rule|element …``)."""
    for line in text.splitlines()[:200]:
        s = line.split("#", 1)[0].strip()  # `nft -a` ends lines with "# handle N"
        if not s:
            continue
        words = s.split()
        if words[0] == "table" and len(words) >= 3 and words[-1] == "{":
            return True
        if words[0] in _COMMANDS and len(words) >= 3 and words[1] in ("table", "chain", "rule", "set", "map", "element"):
            return True
        return False
    return False


def parse_nft_text(text: str, source: str) -> NftRuleset:
    if "\x00" in text:
        raise BadDump(source, "binary data, not nft text")
    with paused_gc():
        tokens = _tokenize(text, source)
        parser = _Parser(tokens, source)
        try:
            parser.parse()
        except ValueError:  # a number int() refuses (over 4,300 digits) outside a rule's statements
            line = tokens[min(parser.i, len(tokens) - 1)][2] if tokens else None
            raise BadDump(source, "a number that cannot be read (not nft output)", line) from None
        del tokens
    info = parser.info
    info.form = "nft-transaction" if parser.saw_command and not parser.saw_block else "nft-text"
    info.notices = [line.strip() for line in text.splitlines() if line.lstrip().startswith("# Warning")]
    return parser.ruleset


_FAST_TOKEN = re.compile(r'\n|#[^\n]*|"(?:[^"\\\n]|\\.)*"|"|[{};,]|[^\s{};,"#]+')
_UNESCAPE = re.compile(r"\\(.)")


def _tokenize(text: str, source: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    append = out.append
    line = 1
    for value in _FAST_TOKEN.findall(text):
        c = value[0]
        if c == "\n":
            append((NL, "\n", line))
            line += 1
        elif c == "#":
            continue
        elif c == '"':
            if len(value) == 1:  # a quote that never closes on its line
                raise BadDump(source, "unterminated quoted string", line)
            body = value[1:-1]
            append((STR, _UNESCAPE.sub(r"\1", body) if "\\" in body else body, line))
        elif c in "{};," and len(value) == 1:
            append((PUNCT, value, line))
        else:
            append((WORD, value, line))
    return out


def _seconds(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return int(sum(int(a) * _DURATION_SECONDS[b] for a, b in parts))


def _int(word: str) -> int | None:
    try:
        return int(word, 0)
    except ValueError:
        return None


def _value(word: str) -> Any:
    """A right-hand value in JSON shape: ints, prefixes, ranges, set references, names."""
    if word.isdigit():
        return int(word)
    if word.startswith("0x"):
        v = _int(word)
        if v is not None:
            return v
    if "/" in word and not word.startswith("@"):
        addr, _, length = word.partition("/")
        if length.isdigit() and (addr.count(".") == 3 or ":" in addr):
            return {"prefix": {"addr": addr, "len": int(length)}}
    if "-" in word and not word.startswith("@"):
        lo, _, hi = word.partition("-")
        if lo.isdigit() and hi.isdigit():
            return {"range": [int(lo), int(hi)]}
        if lo.count(".") == 3 and hi.count(".") == 3:
            return {"range": [lo, hi]}
    return word


class _Cursor:
    """A statement's tokens (no newlines), read left to right."""

    __slots__ = ("toks", "i")

    def __init__(self, toks: list[tuple[str, str, int]]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.toks[j][1] if j < len(self.toks) else None

    def kind(self, ahead: int = 0) -> str | None:
        j = self.i + ahead
        return self.toks[j][0] if j < len(self.toks) else None

    def next(self) -> str:
        tok = self.toks[self.i]
        self.i += 1
        return tok[1]

    def done(self) -> bool:
        return self.i >= len(self.toks)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]], source: str) -> None:
        self.toks = tokens
        self.i = 0
        self.source = source
        self.info = NftDumpInfo(source=source, form="nft-text")
        self.ruleset = NftRuleset(dumps=[self.info])
        self.saw_command = False
        self.saw_block = False

    # --- token helpers -------------------------------------------------------------

    def _line(self) -> int:
        if self.i < len(self.toks):
            return self.toks[self.i][2]
        return self.toks[-1][2] if self.toks else 1

    def _err(self, reason: str, line: int | None = None) -> BadDump:
        return BadDump(self.source, reason, line or self._line(),
                       hint="pass the complete output of `nft list table ip kube-proxy` (or `nft -j list …`)")

    def _peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _next(self) -> tuple[str, str, int]:
        if self.i >= len(self.toks):
            raise self._err("unexpected end of input (truncated dump?)")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _expect(self, value: str) -> None:
        tok = self._next()
        if tok[1] != value or tok[0] == STR:
            raise self._err(f"expected {value!r}, found {tok[1]!r}", tok[2])

    def _name(self) -> str:
        tok = self._next()
        if tok[0] not in (WORD, STR):
            raise self._err(f"expected a name, found {tok[1]!r}", tok[2])
        return tok[1]

    def _skip_separators(self) -> None:
        while self.i < len(self.toks) and self.toks[self.i][0] == NL or (
            self.i < len(self.toks) and self.toks[self.i][1] == ";" and self.toks[self.i][0] == PUNCT
        ):
            self.i += 1

    def _statement(self) -> list[tuple[str, str, int]]:
        """Tokens up to a newline or ';' outside braces, or up to the '}' closing the enclosing block."""
        out: list[tuple[str, str, int]] = []
        depth = 0
        while self.i < len(self.toks):
            tok = self.toks[self.i]
            kind, value = tok[0], tok[1]
            if kind == PUNCT:
                if value == "{":
                    depth += 1
                elif value == "}":
                    if depth == 0:
                        break
                    depth -= 1
                elif value == ";" and depth == 0:
                    break
            elif kind == NL:
                if depth == 0:
                    break
                self.i += 1
                continue
            out.append(tok)
            self.i += 1
        return out

    def _family_and(self, count: int) -> tuple[str, list[str]]:
        """``[family] name…``: the family defaults to ip, as in nft."""
        tok = self._peek()
        family = "ip"
        if tok and tok[0] == WORD and tok[1] in FAMILIES:
            # "ip" may also be a table name: only a family if enough names follow
            ahead = [t for t in self.toks[self.i + 1:self.i + 1 + count] if t[0] in (WORD, STR)]
            if len(ahead) == count:
                family = self._next()[1]
        return family, [self._name() for _ in range(count)]

    # --- top level ---------------------------------------------------------------------

    def parse(self) -> None:
        while True:
            self._skip_separators()
            tok = self._peek()
            if tok is None:
                break
            kind, word, line = tok
            if kind == WORD and word == "table":
                self.i += 1
                self.saw_block = True
                family, (name,) = self._family_and(1)
                table = self.ruleset.ensure_table(family, name)
                table.loc = table.loc or Loc(self.source, line)
                self._expect("{")
                self._table_body(table)
            elif kind == WORD and word in _COMMANDS:
                self.i += 1
                self.saw_command = True
                self._command(word, line)
            else:
                raise self._err(f"unexpected {word!r}: not nft list output or an nft command", line)

    def _table_body(self, table: NftTable) -> None:
        while True:
            self._skip_separators()
            kind, word, line = self._next()
            if kind == PUNCT and word == "}":
                return
            if word == "comment":
                table.comment = self._name()
            elif word == "flags":
                self._statement()
            elif word == "chain":
                name = self._name()
                chain = self._declare_chain(table, name, line)
                self._expect("{")
                self._chain_body(table, chain)
            elif word in ("set", "map"):
                name = self._name()
                s = self._declare_set(table, word, name, line)
                self._expect("{")
                self._set_body(s)
            elif word in ("flowtable", "counter", "quota", "ct", "limit", "secmark", "synproxy"):
                self._skip_block()
            else:
                raise self._err(f"unexpected {word!r} in table {table.ref}", line)

    def _skip_block(self) -> None:
        depth = 0
        while True:
            kind, word, _ = self._next()
            if kind == PUNCT and word == "{":
                depth += 1
            elif kind == PUNCT and word == "}":
                depth -= 1
                if depth <= 0:
                    return

    def _declare_chain(self, table: NftTable, name: str, line: int) -> NftChain:
        chain = table.chains.get(name)
        if chain is None:
            chain = table.chains[name] = NftChain(name)
        chain.declared = True
        chain.loc = chain.loc or Loc(self.source, line)
        return chain

    def _declare_set(self, table: NftTable, kind: str, name: str, line: int) -> NftSet:
        s = table.sets.get(name)
        if s is None:
            s = table.sets[name] = NftSet(name, kind=kind, loc=Loc(self.source, line))
        return s

    def _body(self, what: str) -> Iterator[tuple[str, str, int]]:
        """Each next token of a ``{ … }`` body, until its ``}``; an error when the input ends first."""
        while True:
            self._skip_separators()
            tok = self._peek()
            if tok is None:
                raise self._err(f"{what} is not closed (truncated dump?)")
            if tok[0] == PUNCT and tok[1] == "}":
                self.i += 1
                return
            yield tok

    def _chain_body(self, table: NftTable, chain: NftChain) -> None:
        for tok in self._body(f"chain {chain.name}"):
            line = tok[2]
            stmt = self._statement()
            if not stmt:
                continue
            head = stmt[0][1]
            if head == "type" and stmt[0][0] == WORD:
                self._chain_spec(chain, stmt)
            elif head == "policy":
                chain.policy = stmt[1][1].rstrip(";") if len(stmt) > 1 else None
            elif head == "comment" and len(stmt) == 2 and stmt[1][0] == STR:
                chain.comment = stmt[1][1]
            elif head in ("devices", "device", "flags"):
                continue
            else:
                self._add_rule(table, chain, stmt, line)

    def _chain_spec(self, chain: NftChain, stmt: list[tuple[str, str, int]]) -> None:
        words = [t[1] for t in stmt]
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

    def _set_body(self, s: NftSet) -> None:
        for _ in self._body(f"set {s.name}"):
            kind, word, line = self._next()
            if word == "type":
                stmt = [t[1] for t in self._statement()]
                if ":" in stmt:
                    j = stmt.index(":")
                    s.kind = "map"
                    s.map_type = " ".join(stmt[j + 1:])
                    stmt = stmt[:j]
                s.type = tuple(w for w in stmt if w != ".")
            elif word == "typeof":
                stmt = [t[1] for t in self._statement()]
                s.type = (" ".join(stmt),)
            elif word == "flags":
                s.flags = tuple(t[1] for t in self._statement() if t[1] != ",")
            elif word == "timeout":
                s.timeout = _seconds(self._name())
            elif word == "size":
                s.size = _int(self._name())
            elif word == "comment":
                s.comment = self._name()
            elif word == "elements":
                self._expect("=")
                self._expect("{")
                self._elements(s)
            else:  # gc-interval, policy, auto-merge, counter: nothing that routes packets
                self._statement()

    def _elements(self, s: NftSet, closing: bool = True) -> None:
        """Element list after '{' up to the matching '}'."""
        current: list[tuple[str, str, int]] = []
        depth = 0
        while True:
            tok = self._next()
            kind, word, _ = tok
            if kind == NL:
                continue
            if kind == PUNCT and word == "{":
                depth += 1
            elif kind == PUNCT and word == "}":
                if depth == 0:
                    if current:
                        s.add(self._element(s, current))
                    return
                depth -= 1
            elif kind == PUNCT and word == "," and depth == 0:
                if current:
                    s.add(self._element(s, current))
                current = []
                continue
            current.append(tok)

    def _element(self, s: NftSet, toks: list[tuple[str, str, int]]) -> NftElement:
        line = toks[0][2]
        words = [t[1] for t in toks]
        kinds = [t[0] for t in toks]
        key_parts: list[str] = []
        comment = timeout = expires = None
        value: Any = None
        j = 0
        while j < len(words):
            w = words[j]
            if kinds[j] == WORD and w == ":":
                value = _element_value(words[j + 1:])
                break
            if kinds[j] == WORD and w == "comment" and j + 1 < len(words):
                comment = words[j + 1]
                j += 2
                continue
            if kinds[j] == WORD and w in ("timeout", "expires") and j + 1 < len(words):
                secs = _seconds(words[j + 1])
                if w == "timeout":
                    timeout = secs
                else:
                    expires = secs
                j += 2
                continue
            if kinds[j] == WORD and w == "counter":
                j += 1
                while j < len(words) and words[j] in ("packets", "bytes"):
                    j += 2
                continue
            if w != ".":
                key_parts.append(w)
            j += 1
        if s.kind != "map" and value is not None:
            s.kind = "map"
        element = NftElement(normalize_key(key_parts, s.type), value, comment, timeout, expires,
                             Loc(self.source, line), " ".join(_show(t) for t in toks))
        return element

    # --- commands (transaction form) --------------------------------------------------

    def _command(self, verb: str, line: int) -> None:
        _, obj, _ = self._next()
        handler = {"table": self._cmd_table, "chain": self._cmd_member, "set": self._cmd_member, "map": self._cmd_member,
                   "element": self._cmd_element, "rule": self._cmd_rule}.get(obj)
        if handler is not None:
            handler(verb, obj, line)
        elif obj == "ruleset" and verb == "flush":
            self.ruleset.tables.clear()
        else:
            self._statement()  # other objects (flowtable, counter, …) do not route packets

    def _opens_block(self) -> bool:
        """Consume a ``{`` if one comes next."""
        tok = self._peek()
        if tok and tok[0] == PUNCT and tok[1] == "{":
            self.i += 1
            return True
        return False

    def _cmd_table(self, verb: str, obj: str, line: int) -> None:
        family, (name,) = self._family_and(1)
        table = self.ruleset.ensure_table(family, name)
        table.loc = table.loc or Loc(self.source, line)
        if verb in ("delete", "destroy"):
            self.ruleset.tables.pop((family, name), None)
            self._statement()
        elif verb == "flush":
            for chain in table.chains.values():
                chain.rules.clear()
            for s in table.sets.values():
                s.elements.clear()
                s._index = None
        elif self._opens_block():
            self._table_body(table)

    def _cmd_member(self, verb: str, obj: str, line: int) -> None:
        """``add|delete|flush chain`` / ``set`` / ``map`` FAMILY TABLE NAME [{ … }]."""
        family, (tname, name) = self._family_and(2)
        table = self.ruleset.ensure_table(family, tname)
        if verb in ("delete", "destroy"):
            (table.chains if obj == "chain" else table.sets).pop(name, None)
            self._statement()
        elif verb == "flush" and obj == "chain":
            table.ensure_chain(name).rules.clear()
        elif verb == "flush":
            flushed = table.sets.get(name)
            if flushed:
                flushed.elements.clear()
                flushed._index = None
        elif obj == "chain":
            chain = self._declare_chain(table, name, line)
            if self._opens_block():
                self._chain_body(table, chain)
        else:
            s = self._declare_set(table, obj, name, line)
            if self._opens_block():
                self._set_body(s)

    def _cmd_element(self, verb: str, obj: str, line: int) -> None:
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

    def _cmd_rule(self, verb: str, obj: str, line: int) -> None:
        family, (tname, cname) = self._family_and(2)
        table = self.ruleset.ensure_table(family, tname)
        chain = table.ensure_chain(cname)
        stmt = self._statement()
        if verb in ("delete", "destroy"):
            return
        # "position N" / "index N" / "handle N" before the statements
        while len(stmt) >= 2 and stmt[0][1] in ("position", "index", "handle"):
            stmt = stmt[2:]
        self._add_rule(table, chain, stmt, line, first=(verb == "insert"))

    def _add_rule(self, table: NftTable, chain: NftChain, stmt: list[tuple[str, str, int]], line: int,
                  first: bool = False) -> None:
        exprs, comment = parse_statements(stmt)
        raw = " ".join(_show(t) for t in stmt)
        rule = NftRule(table.family, table.name, chain.name, 0, exprs, comment=comment,
                       loc=Loc(self.source, line), text=raw)
        if first:
            chain.rules.insert(0, rule)
        else:
            chain.rules.append(rule)
        for pos, r in enumerate(chain.rules, 1) if first else ((len(chain.rules), rule),):
            r.position = pos
        if rule.counter is not None:
            self.info.has_counters = True


def _show(tok: tuple[str, str, int]) -> str:
    return f'"{tok[1]}"' if tok[0] == STR else tok[1]


def _priority(text: str) -> int | str:
    text = text.strip().rstrip(";").strip()
    v = _int(text.replace(" ", ""))
    if v is not None:
        return v
    m = re.fullmatch(r"([a-z]+)\s*(?:([+-])\s*(\d+))?", text)
    if m and m.group(1) in _PRIORITY_NAMES:
        base = _PRIORITY_NAMES[m.group(1)]
        if m.group(2):
            base += int(m.group(3)) * (1 if m.group(2) == "+" else -1)
        return base
    return text


def _element_value(words: list[str]) -> Any:
    if not words:
        return None
    if words[0] in ("goto", "jump") and len(words) > 1:
        return Verdict(words[0], words[1])
    if words[0] in _VERDICT_WORDS or words[0] == "queue":
        return Verdict(words[0])
    if len(words) == 1:
        return _value(words[0])
    return " ".join(words)


# --- rule statements -> JSON expressions ----------------------------------------------------


def parse_statements(toks: list[tuple[str, str, int]]) -> tuple[list[dict[str, Any]], str | None]:
    """One rule's statements as libnftables JSON expressions, and its comment."""
    c = _Cursor(toks)
    exprs: list[dict[str, Any]] = []
    comment: str | None = None
    unknown: list[str] = []

    def flush_unknown() -> None:
        if unknown:
            exprs.append({"unknown": " ".join(unknown)})
            unknown.clear()

    while not c.done():
        w = c.peek()
        kind = c.kind()
        start = c.i
        try:
            if kind == STR:
                unknown.append(f'"{c.next()}"')
                continue
            if w == "comment" and c.kind(1) == STR:
                c.next()
                comment = c.next()
                continue
            expr = _one_statement(c, w)
            if expr is None:
                c.i = start
                unknown.append(c.next())
                continue
            flush_unknown()
            exprs.append(expr)
        except (IndexError, ValueError):  # a statement cut short, or a number that is not one (mod 1.5): keep its words
            c.i = start
            while not c.done():
                unknown.append(c.next())
    flush_unknown()
    return exprs, comment


def _one_statement(c: _Cursor, w: str | None) -> dict[str, Any] | None:
    """The statement starting at the cursor as a libnftables JSON expression; None: not one this reader knows."""
    if w in ("jump", "goto") and c.peek(1) is not None:
        c.next()
        return {w: {"target": c.next()}}
    if w in _VERDICT_WORDS:
        c.next()
        return {w: None}
    readers = {"counter": _counter, "reject": _reject, "dnat": _nat, "snat": _nat, "masquerade": _masquerade,
               "redirect": _masquerade}
    if w in readers:
        return readers[w](c)
    if w in ("update", "add", "delete") and (c.peek(1) or "").startswith("@"):
        return _set_update(c)
    if w == "xt" and c.peek(1) in ("match", "target", "watcher"):
        c.next()
        xt_type = c.next()
        return {"xt": {"type": xt_type, "name": c.next() if not c.done() else None}}
    if w == "notrack":
        c.next()
        return {"notrack": None}
    if _is_selector_start(c):
        return _expression_statement(c)
    return None


def _counter(c: _Cursor) -> dict[str, Any]:
    c.next()
    body: dict[str, Any] = {"packets": 0, "bytes": 0}
    if c.peek() == "name":
        c.next()
        return {"counter": c.next()}
    while c.peek() in ("packets", "bytes"):
        key = c.next()
        body[key] = int(c.next())
    return {"counter": body}


def _reject(c: _Cursor) -> dict[str, Any]:
    c.next()
    if c.peek() == "with":
        c.next()
        rtype = c.next()
        if rtype == "tcp":
            c.next()  # reset
            return {"reject": {"type": "tcp reset"}}
        if c.peek() == "type":
            c.next()
        return {"reject": {"type": rtype, "expr": c.next()}}
    return {"reject": None}


def _split_hostport(dest: str) -> tuple[str, int | None]:
    if dest.startswith("["):
        host, _, rest = dest[1:].partition("]")
        port = rest.lstrip(":")
        return host, int(port) if port.isdigit() else None
    if dest.count(":") == 1:
        host, _, port = dest.partition(":")
        return host, int(port) if port.isdigit() else None
    return dest, None


def _nat(c: _Cursor) -> dict[str, Any]:
    kind = c.next()
    body: dict[str, Any] = {}
    if c.peek() in ("ip", "ip6"):
        body["family"] = c.next()
    if c.peek() == "to":
        c.next()
        host, port = _split_hostport(c.next())
        if host:
            body["addr"] = host
        if port is not None:
            body["port"] = port
    _nat_flags(c, body)
    return {kind: body}


def _nat_flags(c: _Cursor, body: dict[str, Any]) -> None:
    """``random``, ``fully-random``, ``persistent`` after a NAT statement: one string, or a list of them."""
    flags = []
    while c.peek() in ("random", "fully-random", "persistent"):
        flags.append(c.next())
    if flags:
        body["flags"] = flags if len(flags) > 1 else flags[0]


def _masquerade(c: _Cursor) -> dict[str, Any]:
    kind = c.next()
    body: dict[str, Any] = {}
    if c.peek() == "to":
        c.next()
        _, port = _split_hostport(c.next())
        if port is not None:
            body["port"] = port
    _nat_flags(c, body)
    return {kind: body or None}


def _set_update(c: _Cursor) -> dict[str, Any] | None:
    op = c.next()
    name = c.next()
    if c.peek() != "{":
        return None
    c.next()
    elem = _selector(c)
    while not c.done() and c.peek() != "}":
        c.next()  # "timeout 3h" and the like
    if c.done():
        return None
    c.next()
    return {"set": {"op": op, "elem": elem, "set": name}}


def _is_selector_start(c: _Cursor) -> bool:
    w = c.peek()
    nxt = c.peek(1)
    if w in ("meta", "ct", "fib", "numgen"):
        return True
    if w in _PAYLOAD_PROTOS and nxt is not None and c.kind(1) == "word" and re.fullmatch(r"[a-z][a-z0-9-]*", nxt) \
            and nxt not in ("dnat", "snat", "to", "masquerade", "jump", "goto", "accept", "drop", "counter"):
        return True
    return w in _META_BARE and nxt is not None and nxt not in ("dnat", "jump", "goto")


def _selector(c: _Cursor) -> dict[str, Any] | None:
    w = c.next()
    if w == "meta":
        return {"meta": {"key": c.next()}}
    if w in _META_BARE:
        return {"meta": {"key": w}}
    if w == "ct":
        d = None
        if c.peek() in ("original", "reply"):
            d = c.next()
        body: dict[str, Any] = {"key": c.next()}
        if d:
            body["dir"] = d
        return {"ct": body}
    if w == "fib":
        flags = [c.next()]
        while c.peek() == ".":
            c.next()
            flags.append(c.next())
        return {"fib": {"result": c.next(), "flags": flags}}
    if w == "numgen":
        mode = c.next()
        body = {"mode": mode, "mod": 0, "offset": 0}
        if c.peek() == "mod":
            c.next()
            body["mod"] = int(c.next())
        if c.peek() == "offset":
            c.next()
            body["offset"] = int(c.next())
        return {"numgen": body}
    if w in _PAYLOAD_PROTOS:
        return {"payload": {"protocol": w, "field": c.next()}}
    return None


def _expression_statement(c: _Cursor) -> dict[str, Any] | None:
    first = _selector(c)
    if first is None:
        return None
    parts = [first]
    while c.peek() == "." and c.kind() == "word":
        c.next()
        nxt = _selector(c) if _is_selector_start(c) or c.peek() in _META_BARE else None
        if nxt is None:
            return None
        parts.append(nxt)
    left: dict[str, Any] = parts[0] if len(parts) == 1 else {"concat": parts}
    w = c.peek()
    if w in ("&", "and"):
        c.next()
        mask = _value(c.next())
        left = {"&": [left, mask]}
        w = c.peek()
    if w == "vmap":
        c.next()
        return {"vmap": {"key": left, "data": _map_data(c)}}
    if w == "set" and len(parts) == 1:
        c.next()
        return {"mangle": {"key": left, "value": _mangle_value(c)}}
    op = "=="
    if w in _OPS:
        op = _OPS[c.next()]
    if c.done():
        return None
    right = _right_value(c)
    if "ct" in parts[0] and op == "==" and len(parts) == 1:
        op = "in"  # nft -j writes ct state/status matches as "in"
    return {"match": {"op": op, "left": left, "right": right}}


def _map_data(c: _Cursor) -> Any:
    if c.peek() != "{":
        return c.next()  # "@service-ips"
    c.next()
    items: list[list[Any]] = []
    current: list[str] = []

    def close() -> None:
        if not current:
            return
        if ":" in current:
            j = current.index(":")
            key_words = [w for w in current[:j] if w != "."]
            key = _value(key_words[0]) if len(key_words) == 1 else {"concat": [_value(w) for w in key_words]}
            verdict = _element_value(current[j + 1:])
            data: Any = {verdict.kind: ({"target": verdict.target} if verdict.target else None)} \
                if isinstance(verdict, Verdict) else verdict
            items.append([key, data])
        current.clear()

    while not c.done():
        w = c.next()
        if w == "}":
            close()
            break
        if w == ",":
            close()
            continue
        current.append(w)
    return {"set": items}


def _mangle_value(c: _Cursor) -> Any:
    if c.peek() in ("meta", "ct") or c.peek() in _META_BARE:
        base = _selector(c)
        op = c.peek()
        ops = {"or": "|", "|": "|", "xor": "^", "^": "^", "and": "&", "&": "&"}
        if op in ops:
            c.next()
            return {ops[op]: [base, _value(c.next())]}
        return base
    return _value(c.next())


def _right_value(c: _Cursor) -> Any:
    w = c.next()
    if w == "{":
        items: list[Any] = []
        while not c.done():
            x = c.next()
            if x == "}":
                break
            if x == ",":
                continue
            items.append(_value(x))
        # nft prints (and its JSON holds) a one-element anonymous set as the bare value
        return items[0] if len(items) == 1 else {"set": items}
    values = [_value(w)]
    while c.peek() == "," and c.peek(1) is not None:  # ct state established,related
        c.next()
        values.append(_value(c.next()))
    return values[0] if len(values) == 1 else values

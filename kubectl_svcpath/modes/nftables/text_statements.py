"""One nft rule's statements, as text tokens, translated into the libnftables JSON expressions
``nft -j`` prints (see ``model``), so correlation reads one form. Statements this reader does not
know are kept as ``{"unknown": "words"}`` rather than rejected: a rule that does something else still
has a position, a verdict and a counter.

Public: ``parse_statements(tokens)``; the value readers ``value_of``, ``element_value``, ``seconds``,
``int_or_none`` (the structure reader uses them for set elements).
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_svcpath.modes.nftables.model import Verdict
from kubectl_svcpath.modes.nftables.text_tokens import STR, WORD, XT_SET, Cursor, Token

_OPS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
        "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_VERDICT_WORDS = ("accept", "drop", "return", "continue")
_META_BARE = ("mark", "iif", "oif", "iifname", "oifname", "l4proto", "nfproto", "skuid", "skgid", "pkttype",
              "length", "protocol", "priority", "iiftype", "oiftype", "cpu", "cgroup", "random")
_PAYLOAD_PROTOS = ("ip", "ip6", "tcp", "udp", "sctp", "th", "icmp", "icmpv6", "ether", "vlan", "arp", "udplite", "dccp")
_DURATION = re.compile(r"(\d+)(d|h|m|s|ms)")
_DURATION_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}


def seconds(text: str) -> int | None:
    """``3h``, ``10800``, ``1d2h3m4s`` -> seconds; None when it is not a duration."""
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return int(sum(int(a) * _DURATION_SECONDS[b] for a, b in parts))


def int_or_none(word: str) -> int | None:
    try:
        return int(word, 0)
    except ValueError:
        return None


def value_of(word: str) -> Any:
    """A right-hand value in JSON shape: ints, prefixes, ranges, set references, names."""
    if word.isdigit():
        return int(word)
    if word.startswith("0x"):
        v = int_or_none(word)
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


def element_value(words: list[str]) -> Any:
    """What a map element maps to: a Verdict (``goto chain``, ``drop``), a value, or the words."""
    if not words:
        return None
    if words[0] in ("goto", "jump") and len(words) > 1:
        return Verdict(words[0], words[1])
    if words[0] in _VERDICT_WORDS or words[0] == "queue":
        return Verdict(words[0])
    if len(words) == 1:
        return value_of(words[0])
    return " ".join(words)



def parse_statements(toks: list[Token]) -> tuple[list[dict[str, Any]], str | None]:
    """One rule's statements as libnftables JSON expressions, and its comment."""
    c = Cursor(toks)
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
                unknown.append(c.take().shown)
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


def _one_statement(c: Cursor, w: str | None) -> dict[str, Any] | None:
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
    if w == XT_SET:  # "# match-set KUBE-CLUSTER-IP dst,dst" as the lexer keeps it: iptables-nft's set match
        c.next()
        return {"xt": {"type": "match", "name": "set", "match-set": [c.next(), c.next()]}}
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


def _counter(c: Cursor) -> dict[str, Any]:
    c.next()
    body: dict[str, Any] = {"packets": 0, "bytes": 0}
    if c.peek() == "name":
        c.next()
        return {"counter": c.next()}
    while c.peek() in ("packets", "bytes"):
        key = c.next()
        body[key] = int(c.next())
    return {"counter": body}


def _reject(c: Cursor) -> dict[str, Any]:
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


def _nat(c: Cursor) -> dict[str, Any]:
    kind = c.next()
    body: dict[str, Any] = {}
    if c.peek() in ("ip", "ip6"):
        body["family"] = c.next()
    if (c.peek(), c.peek(1), c.peek(2)) == ("addr", ".", "port"):  # nft -f input: "dnat ip addr . port to …"
        c.i += 3
    if c.peek() == "to" and c.peek(1) == "numgen":  # kube-proxy 1.36+: "dnat ip to numgen random mod 2 map { … }"
        c.next()
        key = _selector(c)
        if c.peek() != "map":
            raise ValueError("numgen without a map")
        c.next()
        body["addr"] = {"map": {"key": key, "data": _nat_map_data(c)}}
        _nat_flags(c, body)
        return {kind: body}
    if c.peek() == "to":
        c.next()
        host, port = _split_hostport(c.next())
        if host:
            body["addr"] = host
        if port is not None:
            body["port"] = port
    _nat_flags(c, body)
    return {kind: body}


def _nat_map_data(c: Cursor) -> Any:
    """``{ 0 : 10.0.0.1 . 80, 1 : fd00::2 . 80 }`` as nft -j writes it: [[0, {"concat": ["10.0.0.1", 80]}], …]."""
    if c.peek() != "{":
        return c.next()  # a named map, "@backends"
    c.next()
    items: list[list[Any]] = []
    current: list[str] = []
    while True:
        w = c.next()  # IndexError when the map is cut short: the caller keeps the words
        if w in (",", "}"):
            if ":" in current:
                j = current.index(":")
                key = value_of(current[0]) if j == 1 else " ".join(current[:j])
                vals = [value_of(x) for x in current[j + 1:] if x != "."]
                items.append([key, vals[0] if len(vals) == 1 else {"concat": vals}])
            current = []
            if w == "}":
                return {"set": items}
            continue
        current.append(w)


def _nat_flags(c: Cursor, body: dict[str, Any]) -> None:
    """``random``, ``fully-random``, ``persistent`` after a NAT statement: one string, or a list of them."""
    flags = []
    while c.peek() in ("random", "fully-random", "persistent"):
        flags.append(c.next())
    if flags:
        body["flags"] = flags if len(flags) > 1 else flags[0]


def _masquerade(c: Cursor) -> dict[str, Any]:
    kind = c.next()
    body: dict[str, Any] = {}
    if c.peek() == "to":
        c.next()
        _, port = _split_hostport(c.next())
        if port is not None:
            body["port"] = port
    _nat_flags(c, body)
    return {kind: body or None}


def _set_update(c: Cursor) -> dict[str, Any] | None:
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


def _is_selector_start(c: Cursor) -> bool:
    w = c.peek()
    nxt = c.peek(1)
    if w in ("meta", "ct", "fib", "numgen"):
        return True
    if w in _PAYLOAD_PROTOS and nxt is not None and c.kind(1) == WORD and re.fullmatch(r"[a-z][a-z0-9-]*", nxt) \
            and nxt not in ("dnat", "snat", "to", "masquerade", "jump", "goto", "accept", "drop", "counter"):
        return True
    return w in _META_BARE and nxt is not None and nxt not in ("dnat", "jump", "goto")


def _selector(c: Cursor) -> dict[str, Any] | None:
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


def _expression_statement(c: Cursor) -> dict[str, Any] | None:
    first = _selector(c)
    if first is None:
        return None
    parts = [first]
    while c.peek() == "." and c.kind() == WORD:
        c.next()
        nxt = _selector(c) if _is_selector_start(c) or c.peek() in _META_BARE else None
        if nxt is None:
            return None
        parts.append(nxt)
    left: dict[str, Any] = parts[0] if len(parts) == 1 else {"concat": parts}
    w = c.peek()
    if w in ("&", "and"):
        c.next()
        mask = value_of(c.next())
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


def _map_data(c: Cursor) -> Any:
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
            key = value_of(key_words[0]) if len(key_words) == 1 else {"concat": [value_of(w) for w in key_words]}
            verdict = element_value(current[j + 1:])
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


def _mangle_value(c: Cursor) -> Any:
    if c.peek() in ("meta", "ct") or c.peek() in _META_BARE:
        base = _selector(c)
        op = c.peek()
        ops = {"or": "|", "|": "|", "xor": "^", "^": "^", "and": "&", "&": "&"}
        if op in ops:
            c.next()
            return {ops[op]: [base, value_of(c.next())]}
        return base
    return value_of(c.next())


def _right_value(c: Cursor) -> Any:
    w = c.next()
    if w == "{":
        items: list[Any] = []
        while not c.done():
            x = c.next()
            if x == "}":
                break
            if x == ",":
                continue
            items.append(value_of(x))
        # nft prints (and its JSON holds) a one-element anonymous set as the bare value
        return items[0] if len(items) == 1 else {"set": items}
    values = [value_of(w)]
    while c.peek() == "," and c.peek(1) is not None:  # ct state established,related
        c.next()
        values.append(value_of(c.next()))
    return values[0] if len(values) == 1 else values

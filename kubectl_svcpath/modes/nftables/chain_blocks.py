"""nft listings as people cut them: chain blocks without their table, listings cut short.

People copy the one chain they care about out of ``nft list table ip nat`` (or ``nft list
ruleset``), sometimes the same chain from two nodes one after the other, with their own
``## notes`` in between. nft's own reader needs the table around a chain; this module puts one
back (on the same lines, so every rule keeps its line number) and says which table it guessed.
A listing the author cut short (``....`` and nothing after it) leaves its blocks open: they are
closed after the last line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubectl_svcpath.wording import numbered, times

_CHAIN_LINE = re.compile(r"^\s*chain\s+(\S+)\s*\{")
# a chain kube-proxy's nftables mode names after a Service port or endpoint: a lower-case kind, then a hash
_KP_CHAIN = re.compile(r"(?:service|external|endpoint|firewall)-[A-Z0-9]{8}-")
# a set or map block of kube-proxy's (lower-case names: cluster-ips, service-ips, no-endpoint-services …)
_SET_LINE = re.compile(r"^\s*(set|map)\s+([a-z][a-z0-9-]*)\s*\{")
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')
# kube-proxy's nat chains (iptables mode, as iptables-nft wrote them) and what only a nat rule does
_NAT_PREFIXES = ("KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-", "KUBE-XLB-", "KUBE-FW-", "KUBE-SVL-", "KUBE-MARK-",
                 "KUBE-POSTROUTING", "KUBE-NODEPORTS", "PREROUTING", "POSTROUTING")
_NAT_WORDS = re.compile(r"\b(?:dnat|snat|masquerade|redirect)\b|jump KUBE-(?:SVC|SEP|EXT|XLB|FW|MARK|NODEPORTS|SVL)")
_FILTER_WORDS = re.compile(r"\b(?:reject|drop|accept)\b")


# a map element line as nft prints it, alone (``nft list map ip kube-proxy service-ips | grep ADDR``):
# "10.96.120.15 . tcp . 80 : goto service-…," (a no-endpoint map's elements carry a comment before the ":")
_ELEMENT_LINE = re.compile(r'^\s*(?:elements = \{\s*)?([0-9a-fA-F.:/]+(?: \. \S+)+)(?: comment "[^"\n]*")? : '
                           r'(?:(goto|jump) ([a-z][^\s,{}]*)|(drop|reject|accept))\s*,?\s*\}?\s*$')
# `nft list tables` output: a table's name alone on its line
_TABLE_NAME_LINE = re.compile(r"^\s*table (?:ip|ip6|inet|arp|bridge|netdev) \S+\s*$")
# a line of a plain set's elements (kube-proxy's cluster-ips, nodeport-ips), as a grep for an address keeps it:
# "elements = { 10.255.0.1, 10.255.0.10," - addresses only, no key of several parts, no verdict
_SET_ELEMENTS_LINE = re.compile(r"^\s*(?:elements = \{\s*)?[0-9a-fA-F.:/]+(?:\s*,\s*[0-9a-fA-F.:/]+)*\s*[,}]?\s*$")


def has_loose_lines(text: str) -> bool:
    """The text holds lines nft's reader takes only inside a block: ``nft list tables`` output, map element lines."""
    return any(_TABLE_NAME_LINE.match(line) or _ELEMENT_LINE.match(line) for line in text.split("\n"))


def looks_like_chain_blocks(text: str) -> bool:
    """True when the first line that is not blank or a ``#`` note opens an nft chain block, or is a map
    element of kube-proxy's (a grep of ``nft list map``) or ``nft list tables`` output followed by either."""
    for line in text.splitlines()[:200]:
        s = line.strip()
        if not s or s.startswith("#") or _TABLE_NAME_LINE.match(s) or _SET_ELEMENTS_LINE.match(s):
            continue
        return bool(_CHAIN_LINE.match(s) or _SET_LINE.match(s) or _ELEMENT_LINE.match(s))
    return False


@dataclass(slots=True)
class Wrapped:
    text: str  # the input with a table around each top-level chain block, line numbers unchanged
    notices: list[str] = field(default_factory=list)  # what was guessed or left out, for the report
    cut: list[str] = field(default_factory=list)  # chains whose block never closes: their rules are in the input in part


def wrap_chain_blocks(text: str) -> Wrapped:
    """Put ``table <family> <name> {`` before each top-level chain block and ``}`` after it."""
    lines = text.split("\n")
    out = list(lines)
    notices: list[str] = []
    first_seen: dict[str, tuple[int, int, str]] = {}  # each chain's block read: its first and last line, its text
    relisted: dict[str, list[int]] = {}  # chains listed again with other rules: the lines of their listings
    cut: list[str] = []  # chains whose block never closes
    loose_sets: list[int] = []  # lines of a plain set's elements, without the set
    guessed: dict[str, list[str]] = {}
    depth = 0
    i = 0
    while i < len(lines):
        if depth == 0 and (s := _SET_LINE.match(lines[i])) is not None:
            i = _wrap_set(lines, out, i, s, guessed)
            continue
        m = _CHAIN_LINE.match(lines[i]) if depth == 0 else None
        if m is None:
            if depth == 0 and _TABLE_NAME_LINE.match(lines[i]):
                out[i] = ""  # `nft list tables` names the tables; nothing to read in it
            elif depth == 0 and _SET_ELEMENTS_LINE.match(lines[i]) and re.search(r"[.:]", lines[i]):
                out[i] = ""  # which set they are in is not in the input (nor whether it is listed whole)
                loose_sets.append(i + 1)
            elif depth == 0 and (element := _ELEMENT_LINE.match(lines[i])) is not None:
                i = _wrap_elements(lines, out, i, element, guessed)
                continue
            else:
                depth += _braces(lines[i])
            i += 1
            continue
        end, body = _block(lines, i)
        name = m.group(1)
        if _listed_before(out, first_seen, relisted, cut, name, (i, end, body)):
            for j in range(i, end + 1):
                out[j] = ""
        else:
            first_seen[name] = (i, end, body)
            family, table = _table_of(name, body)
            if name not in guessed.get(f"{family} {table}", []):
                guessed.setdefault(f"{family} {table}", []).append(name)
            out[i] = f"table {family} {table} {{ {lines[i]}"
            open_braces = sum(_braces(line) for line in lines[i:end + 1])
            if open_braces > 0:  # the block never closes (grep's lines, a cut): closed where its lines end
                out[end] = _close(out[end], open_braces + 1)
                cut.append(name)
            else:
                out[end] = _close(out[end])
        i = end + 1
    _guessed_notes(notices, guessed, cut, relisted)
    if loose_sets:
        notices.append(f"set element lines without their set ({numbered('line', loose_sets)}: addresses "
                       "alone, as a grep keeps them from cluster-ips or nodeport-ips) left out: which set they are in is "
                       "not in the input")
    return Wrapped("\n".join(out), notices, cut)


def _listed_before(out: list[str], first_seen: dict[str, tuple[int, int, str]], relisted: dict[str, list[int]],
                   cut: list[str], name: str, block: tuple[int, int, str]) -> bool:
    """A chain block listed again: True when its rules are the same (this listing is left out: read once); with other
    rules, a later moment (as a table's chain listed again): the earlier listing is left out, this one read."""
    seen = first_seen.get(name)
    if seen is None:
        return False
    if _rules_of(seen[2]) == _rules_of(block[2]):
        return True
    for j in range(seen[0], seen[1] + 1):
        out[j] = ""
    cut[:] = [c for c in cut if c != name]
    relisted.setdefault(name, [seen[0] + 1]).append(block[0] + 1)
    return False


def _guessed_notes(notices: list[str], guessed: dict[str, list[str]], cut: list[str],
                   relisted: dict[str, list[int]]) -> None:
    """What the wrapping guessed (each table, from the names and rules), the chains listed again with other rules and
    the blocks it closed, added to ``notices``."""
    for name, at in relisted.items():
        notices.append(f"chain {name} is listed {times(len(at))} with other rules ({numbered('line', at)}): several "
                       f"moments (or nodes) pasted together; its last listing is read (line {at[-1]}), as the later "
                       "state; pass each node's listing in its own file")
    if cut:
        shown = ", ".join(cut[:4]) + (f" and {len(cut) - 4} more" if len(cut) > 4 else "")
        notices.append(f"chain {'block' if len(cut) == 1 else 'blocks'} {shown} {'ends' if len(cut) == 1 else 'end'} without "
                       "a closing brace (lines picked by grep, or cut): the rules not shown are not in the input")
    for table, names in guessed.items():
        chains = [n for n in names if not n.startswith(("map ", "block "))]
        maps = sorted({n for n in names if n.startswith("map ")})
        blocks = [n.removeprefix("block ") for n in names if n.startswith("block ")]
        if blocks:
            its = "its" if len(blocks) == 1 else "their"
            notices.insert(0, f"{', '.join(blocks)} pasted without {its} table: read as table {table} (kube-proxy's "
                              "names); the table's other sets, maps and chains are not in the input")
        if chains:
            shown = ", ".join(chains[:4]) + (f" and {len(chains) - 4} more" if len(chains) > 4 else "")
            notices.insert(0, f"chain blocks pasted without their table: {shown} read as table {table} (from their names and rules)")
        if maps:
            notices.insert(0, f"map element lines pasted without their map: read as elements of {', '.join(maps)} of table "
                              f"{table} (from their keys and verdicts); the map's other elements are not in the input")


def _wrap_set(lines: list[str], out: list[str], start: int, m: re.Match[str], guessed: dict[str, list[str]]) -> int:
    """A set or map block inside kube-proxy's table (its family from its type); closed after the paste's last
    line when the author cut it. Returns the line after the block."""
    end, body = _block(lines, start)
    family = "ip6" if re.search(r"\bipv6_addr\b", body) else "ip"
    guessed.setdefault(f"{family} kube-proxy", []).append(f"block {m.group(1)} {m.group(2)}")
    out[start] = f"table {family} kube-proxy {{ {lines[start]}"
    open_braces = sum(_braces(line) for line in lines[start:end + 1])
    out[end] = _close(out[end], open_braces + 1 if open_braces > 0 else 1)
    return end + 1


def _wrap_elements(lines: list[str], out: list[str], start: int, m: re.Match[str], guessed: dict[str, list[str]]) -> int:
    """Element lines inside the table and map their keys and verdicts say they belong to (kube-proxy's maps). The
    lines that follow one another and go in one map are one listing of it (a grep keeps a map's matching elements
    together): wrapped as one, not each as a listing of its own, which would read as the map listed again with
    other elements, a later moment replacing the earlier. Returns the line after them."""
    family, name = _map_of(m)
    end = start
    while end + 1 < len(lines):
        nxt = _ELEMENT_LINE.match(lines[end + 1])
        if nxt is None or _map_of(nxt) != (family, name) or lines[end + 1].lstrip().startswith("elements"):
            break
        end += 1
    guessed.setdefault(f"{family} kube-proxy", []).append(f"map {name}")
    listed = lines[start].lstrip().startswith("elements")  # (the map's first element, on nft's "elements = {" line)
    head = f"table {family} kube-proxy {{ map {name} {{ " + ("" if listed else "elements = { ")
    out[start] = head + lines[start]
    # the blocks the head opens, and those the lines leave open ("… }": the map's last element closes its elements)
    out[end] = out[end] + " }" * max(0, (2 if listed else 3) + sum(_braces(line) for line in lines[start:end + 1]))
    return end + 1


def _map_of(m: re.Match[str]) -> tuple[str, str]:
    """The family and kube-proxy map an element line goes in, from its key and verdict."""
    key, _, target, bare = m.groups()
    parts = key.split(" . ")
    family = "ip6" if ":" in parts[0] else "ip"
    no_endpoints = bare in ("drop", "reject") or target == "reject-chain"
    if len(parts) == 3:
        name = "no-endpoint-services" if no_endpoints else "firewall-ips" if (target or "").startswith("firewall-") else "service-ips"
    else:
        name = "no-endpoint-nodeports" if no_endpoints else "service-nodeports"
    return family, name


def close_open_blocks(text: str) -> str:
    """``text`` with a ``}`` after its last line for each block still open there (an excerpt cut short)."""
    depth = sum(_braces(line) for line in text.split("\n"))
    return text + "\n" + "}" * depth if depth > 0 else text


def braces(line: str) -> int:
    """How many blocks the line opens (negative: closes), strings and comments aside."""
    bare = _STRING_OR_COMMENT.sub("", line)
    return bare.count("{") - bare.count("}")


_braces = braces


def _block(lines: list[str], start: int) -> tuple[int, str]:
    """The last line of the block opened on ``start`` (the input's last line when it never closes), and its text."""
    depth = 0
    for j in range(start, len(lines)):
        if j > start and depth == 1 and _CHAIN_LINE.match(lines[j]):
            return j - 1, "\n".join(lines[start:j])  # another chain opens in its body: grep's lines, this one unclosed
        depth += _braces(lines[j])
        if depth <= 0:
            return j, "\n".join(lines[start:j + 1])
    return len(lines) - 1, "\n".join(lines[start:])


def _rules_of(block: str) -> list[str]:
    """A chain block's rule lines as nft prints them, without the indentation and the handles ``-a`` adds."""
    return [re.sub(r"\s*# handle \d+\s*$", "", ln.strip()) for ln in block.split("\n")[1:] if ln.strip()]


def _close(line: str, count: int = 1) -> str:
    """``line`` with ``count`` more ``}``, before any ``#`` note on it (``nft -a``'s ``# handle 61``: braces after it
    would be part of the note)."""
    bare = _STRING_OR_COMMENT.sub(lambda m: "x" * len(m.group(0)) if m.group(0).startswith('"') else m.group(0), line)
    hash_at = bare.find("#")
    if hash_at < 0:
        return line + " }" * count
    return line[:hash_at] + " }" * count + " " + line[hash_at:]


def _table_of(name: str, body: str) -> tuple[str, str]:
    """Which table a bare chain most likely sits in: kube-proxy's own (nftables mode) or iptables-nft's."""
    family = "ip6" if re.search(r"\bip6\b", body) else "ip"
    if name.islower() or _KP_CHAIN.match(name):  # kube-proxy's nftables mode: "services", "service-HASH-ns/name/…"
        return family, "kube-proxy"  # (table ip6 kube-proxy: its rules match "ip6 daddr", "ip6 saddr")
    bare = _STRING_OR_COMMENT.sub("", body)
    if name.startswith(_NAT_PREFIXES) or _NAT_WORDS.search(bare):
        return family, "nat"
    if _FILTER_WORDS.search(bare) or name in ("INPUT", "FORWARD"):
        return family, "filter"
    return family, "nat"

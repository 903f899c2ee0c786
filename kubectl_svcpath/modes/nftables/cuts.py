"""Where an author cut an ``nft list`` listing (``...``): the block each cut is in, and which Services it touches.

nft prints kube-proxy's table as blocks: its sets and maps (each with all its elements), then one block per chain.
A cut inside a Service's chain (``service-…-ns/name/…``, ``external-…``, ``endpoint-…``, ``firewall-…``) leaves
that chain in the input in part; a cut between blocks may have taken whole blocks. Neither changes what the
blocks shown before and after it hold: a map listed whole still names every way in, a chain listed whole (its
``chain … {`` to its ``}``) still holds all its rules. So only the Services the cut touches are read as an
excerpt (parse/excerpt.py's cut marks in an iptables paste leave only the chain they fall in unknown the same
way): a Service one of whose chains holds a cut, or whose maps and chains name a chain the input does not show
while blocks may have been cut. A cut anywhere else (in a map, a set, one of kube-proxy's shared chains, outside
kube-proxy's table) leaves the whole input an excerpt, as before.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kubectl_svcpath.modes.nftables.chain_blocks import braces
from kubectl_svcpath.modes.nftables.model import NftRuleset, NftTable, Verdict, references

if TYPE_CHECKING:
    from kubectl_svcpath.snapshot import ServiceSnapshot

# a block's first line as nft lists it: "table ip kube-proxy {", "\tchain services {", "\tmap service-ips {"
_OPENER = re.compile(r"^\s*(table|chain|set|map|flowtable|counter|quota|limit|ct\s+\w+|secmark|synproxy)\s+"
                     r"(?:(ip6?|inet|arp|bridge|netdev)\s+)?([^\s{]+)\s*\{")
_SERVICE_CHAIN = re.compile(r"^(?:service|local|external|firewall|endpoint)-[A-Z2-7]{8}-([^/]+)/([^/]+)/")
_MAPS = ("service-ips", "service-nodeports", "firewall-ips", "no-endpoint-services", "no-endpoint-nodeports")

# (line, table (family, name) or None, kind of the innermost block around it or None between blocks, its name)
Place = tuple[int, "tuple[str, str] | None", "str | None", "str | None"]


def cut_places(text: str, lines: tuple[int, ...] | list[int]) -> list[Place]:
    """Where each cut line (1-based; its text blanked by the paste cleaner) is in the listing's blocks."""
    wanted = set(lines)
    out: list[Place] = []
    stack: list[tuple[str, str, str] | None] = []  # (kind, name, family) of each open named block; None: other braces
    for i, line in enumerate(text.split("\n"), 1):
        if i in wanted:
            named = [b for b in stack if b is not None]
            table = next(((b[2], b[1]) for b in named if b[0] == "table"), None)
            inner = next((b for b in reversed(named) if b[0] != "table"), None)
            out.append((i, table, inner[0] if inner else None, inner[1] if inner else None))
        net = braces(line)
        if net > 0:
            m = _OPENER.match(line)
            stack.append((m.group(1), m.group(3), m.group(2) or "ip") if m else None)
            stack.extend([None] * (net - 1))
        elif net < 0:
            del stack[max(0, len(stack) + net):]
    return out


def place_cuts(nft: NftRuleset, places: list[Place]) -> bool:
    """Record each cut on its table: in a Service's chain, or between blocks. False when one is elsewhere (a map,
    a set, a shared chain, outside kube-proxy's table): the whole input is then an excerpt."""
    placed = True
    for line, where, kind, name in places:
        table = nft.table(*where) if where is not None else None
        if table is not None and table.name != "kube-proxy" and _nothing_of_kube_proxy(nft, table):
            nft.cut_elsewhere.append((line, table.ref))
        elif table is None or table.name != "kube-proxy":
            placed = False
        elif kind is None:
            table.cut_between.append(line)
        elif kind == "chain" and name is not None and _SERVICE_CHAIN.match(name):
            table.cut_chains.setdefault(name, []).append(line)
        else:
            placed = False
    return placed


def _nothing_of_kube_proxy(nft: NftRuleset, table: NftTable) -> bool:
    """A table beside kube-proxy's own (nftables mode) that holds no chain of kube-proxy's (KUBE-…, as iptables-nft
    writes them in iptables or IPVS mode): firewalld's, docker's. A cut in it touches no Service."""
    return bool(nft.kube_proxy_tables()) and not any(name.upper().startswith("KUBE-") for name in table.chains)


def touches(nft: NftRuleset, snapshot: ServiceSnapshot) -> bool:
    """The cuts placed in kube-proxy's table touch this Service: one of its chains holds a cut, or (blocks may
    have been cut) its maps' elements or its chains name a chain of it the input does not show."""
    for table in nft.kube_proxy_tables():
        if not table.cut_chains and not table.cut_between:
            continue
        key = (snapshot.namespace, snapshot.name)
        if any(_owner(name) == key for name in table.cut_chains):
            return True
        todo = list(nft.once("cut-named", _named_by_maps).get((table.ref, *key), ()))
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            chain = table.chain(name)
            if chain is None:
                return True
            todo.extend(ref for rule in chain.rules for ref in references(rule.exprs)
                        if not ref.startswith("@") and _owner(ref) == key)
    return False


def _owner(chain: str) -> tuple[str, str] | None:
    m = _SERVICE_CHAIN.match(chain)
    return (m.group(1), m.group(2)) if m else None


def _named_by_maps(nft: NftRuleset) -> dict[tuple[str, str, str], set[str]]:
    """(table, namespace, name) -> the Service's chains kube-proxy's maps lead to (their elements' goto targets)."""
    out: dict[tuple[str, str, str], set[str]] = {}
    for table in nft.kube_proxy_tables():
        for map_name in _MAPS:
            m = table.set(map_name)
            for element in m.elements if m is not None else ():
                target = element.value.target if isinstance(element.value, Verdict) else None
                owner = _owner(target) if target else None
                if owner is not None and target is not None:
                    out.setdefault((table.ref, *owner), set()).add(target)
    return out


def cut_note(source: str, table: NftTable) -> str:
    """What the cuts placed in this table leave out, for Report.notes."""
    places = sorted([(n, f"inside chain {name}") for name, lines in table.cut_chains.items() for n in lines]
                    + [(n, "between its blocks") for n in table.cut_between])
    if len(places) == 1:
        said = f"at line {places[0][0]}, {places[0][1]}"
    else:
        shown = [f"{n} ({where})" for n, where in places[:5]]
        said = "at lines " + ", ".join(shown[:-1]) + " and " + shown[-1] + (f" and {len(places) - 5} more" if len(places) > 5 else "")
    out = [f"{source} is cut {said}"]
    if table.cut_chains:
        services = sorted({"/".join(o) for name in table.cut_chains if (o := _owner(name)) is not None})
        out.append(f"{'that chain is' if len(table.cut_chains) == 1 else 'those chains are'} in the input in part "
                   f"({', '.join(services)}: read as from an excerpt)")
    if table.cut_between:
        out.append("a chain the listing names but does not show may be in what was cut (not in the input, not missing)")
    out.append(f"the maps and the other chains of table {table.ref} are listed whole, and the other Services are "
               "read from them as from a whole table")
    return out[0] + ": " + "; ".join(out[1:])


def elsewhere_note(source: str, cuts: list[tuple[int, str]]) -> str:
    """Cuts in tables that hold nothing of kube-proxy's, for Report.notes."""
    said = ", ".join(f"{n} (table {ref})" for n, ref in cuts[:5]) + (f" and {len(cuts) - 5} more" if len(cuts) > 5 else "")
    return (f"{source} is cut at line{'s' if len(cuts) > 1 else ''} {said}, in tables that hold none of kube-proxy's "
            "chains: no Service is read from them, and kube-proxy's table is read as the listing shows it")

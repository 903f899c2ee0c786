"""Follow one packet through kube-proxy's nftables tables (nftables mode).

Base chains run by hook and priority, as the kernel runs them: for a packet arriving on the
node ``prerouting`` (filter ``dstnat - 10``, nat ``dstnat``), then ``input`` or ``forward``,
then ``postrouting``; for the node's own traffic ``output`` (filter -110, nat -100,
filter 0), then ``postrouting``. An ``accept`` ends one base chain; ``drop`` and ``reject``
end the packet.

Statements followed: matches on ``ip``/``ip6`` addresses (prefixes, ``!=``, named and
anonymous sets), ``meta l4proto``, ``th``/``tcp``/``udp`` ports, ``meta mark`` (masked),
``fib saddr|daddr type local``, ``ct state``, ``ct status dnat``, a concatenated key in a named set
(``ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections``); verdict maps (``vmap @map`` over a concatenated
key), ``numgen random mod N vmap`` (a fork, 1/N each), affinity sets (``ip saddr @affinity-…``:
"returning client" or "first connection"), ``meta mark set``, ``dnat to`` (an address, or ``numgen
random mod N map { i : ip . port }``: a fork, 1/N each), ``masquerade``,
``reject``, ``jump``/``goto``/``return``. Any other statement is an "unknown" fork.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kubectl_svcpath.modes.nftables.model import NftChain, NftRule, NftRuleset, NftTable, Verdict, jump_target, normalize_key_part, numgen_of, selector_name, value_text, verdict_of
from kubectl_svcpath.trace.match import in_prefix, outside_excludes, port_in, protocol_name
from kubectl_svcpath.trace.model import Choice, Node, Packet, Step, Trace
from kubectl_svcpath.trace.state import MAX_BRANCHES, OutsideNotes, State, close, finish, ordered, routed

_PRIO_NAMES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
_NEUTRAL = ("counter", "comment", "log", "limit", "notrack")
_OBJECT_BODIES = ("match", "vmap", "dnat", "mangle")  # statements whose body nft writes as an object
_MAX_DEPTH = 40

Exit = tuple[str, Step | None, str]


def priority(prio: int | str | None) -> int:
    if isinstance(prio, int):
        return prio
    if prio is None:
        return 0
    text = str(prio).replace(" ", "")
    for name, base in _PRIO_NAMES.items():
        if text.startswith(name):
            rest = text[len(name):]
            try:
                return base + (int(rest) if rest else 0)
            except ValueError:
                return base
    try:
        return int(text)
    except ValueError:
        return 0


class NftTracer:
    def __init__(self, tables: list[NftTable], node: Node) -> None:
        self.tables = tables
        self.node = node
        self.notes: list[str] = []
        self.outside = OutsideNotes()  # what --trace outside decided about source matches

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def base_chains(self, hook: str, family: int) -> list[tuple[NftTable, NftChain]]:
        fams = ("ip", "inet") if family == 4 else ("ip6", "inet")
        found = [(t, c) for t in self.tables if t.family in fams for c in t.base_chains() if c.hook == hook]
        return sorted(found, key=lambda tc: priority(tc[1].prio))

    def run_hook(self, states: list[State], hook: str) -> tuple[list[State], list[State]]:
        going, done = [], []
        if hook in ("prerouting", "output") and self.tables and states and not any(
                c.type == "nat" or c.name.startswith("nat-") for _, c in self.base_chains(hook, states[0].packet.family)):
            # kube-proxy always DNATs from a nat chain on this hook: a listing without one was cut
            for st in states:
                finish(st, "unknown", None, f"kube-proxy's nat chain for the {hook} hook (nat-{hook}) is not in the "
                                            "input: where the packet is DNAT'ed cannot be followed; pass the whole table")
            return [], list(states)
        for st in states:
            current = [st]
            for table, chain in self.base_chains(hook, st.packet.family):
                nxt = []
                for s in current:
                    for s2, (kind, step, reason) in self._chain(s, table, chain, 0):
                        if kind in ("return", "accept"):
                            if kind == "return" and (chain.policy or "accept") == "drop":
                                pstep = s2.hit(Step(f"{table.family} {table.name} {chain.name}", "policy drop", table.ref, "policy drop"))
                                finish(s2, "drop", pstep, f"the policy of {chain.name} is drop")
                                done.append(s2)
                            else:
                                nxt.append(s2)
                        else:
                            finish(s2, kind, step, reason)
                            done.append(s2)
                current = nxt
            going.extend(current)
        return going, done

    def _step(self, table: NftTable, chain: NftChain, rule: NftRule | None, action: str, text: str | None = None, ref: str | None = None) -> Step:
        where = f"{table.family} {table.name} {chain.name}" + (f" #{rule.position}" if rule else "")
        counter = rule.counter if rule else None
        return Step(where, text if text is not None else (rule.raw if rule else ""),
                    ref or (rule.loc.ref if rule and rule.loc else table.ref), action, None, counter[0] if counter else None)

    def _chain(self, st: State, table: NftTable, chain: NftChain, depth: int) -> list[tuple[State, Exit]]:
        if depth > _MAX_DEPTH:
            return [(st, ("unknown", None, "jumps nest too deep (a loop?)"))]
        out: list[tuple[State, Exit]] = []
        pending: list[tuple[State, int, int]] = [(st, 0, 0)]  # state, rule index, statement index
        rules = chain.rules
        while pending:
            s, i, j = pending.pop()
            finished = False
            while i < len(rules) and not finished:
                rule = rules[i]
                res = self._run_rule(s, table, chain, rule, j, depth)
                conts = [(s2, ex) for s2, ex in res if ex[0] == "continue"]
                ends = [(s2, ex) for s2, ex in res if ex[0] != "continue"]
                out.extend(ends)
                if len(out) + len(pending) > MAX_BRANCHES:
                    self.note(f"more than {MAX_BRANCHES} branches: the trace was cut short")
                    return out
                if not conts:
                    finished = True
                    break
                s = conts[0][0]
                for s2, _ in conts[1:]:
                    pending.append((s2, i + 1, 0))
                i, j = i + 1, 0
            if not finished:
                out.append((s, ("return", None, "")))
        return out

    def _run_rule(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, start: int, depth: int) -> list[tuple[State, Exit]]:
        """Statements of one rule in order; a failed match ends the rule ("continue" to the next)."""
        states: list[State] = [st]
        results: list[tuple[State, Exit]] = []
        exprs = rule.exprs
        for k in range(start, len(exprs)):
            e = exprs[k]
            nxt: list[State] = []
            for s in states:
                for s2, outcome in self._statement(s, table, chain, rule, e, depth):
                    if outcome is None:
                        nxt.append(s2)  # go on with the next statement
                    else:
                        results.append((s2, outcome))
            states = nxt
            if not states:
                break
        results.extend((s, ("continue", None, "")) for s in states)
        return results

    def _statement(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, e: dict[str, Any],
                   depth: int) -> list[tuple[State, Exit | None]]:
        where = f"{table.family} {table.name} {chain.name} #{rule.position}"
        ref = rule.loc.ref if rule.loc else table.ref
        odd = next((k for k in _OBJECT_BODIES if k in e and not isinstance(e[k], dict) and not (k == "dnat" and e[k] is None)), None)
        if odd is not None:  # (nft writes these as objects: another shape is not followed)
            step = st.hit(self._step(table, chain, rule, "not followed"))
            return [(st, ("unknown", step, f"statement {odd} is not written as nft writes it"))]
        if "match" in e:
            return self._match_statement(st, table, e["match"], where, ref, (chain, rule))
        for key in ("jump", "goto", "accept", "drop", "return", "continue"):
            if key in e:
                return self._verdict(st, table, chain, rule, Verdict(key, jump_target(e[key])), depth)
        if "reject" in e:
            step = st.hit(self._step(table, chain, rule, "reject"))
            return [(st, ("reject", step, ""))]
        if "vmap" in e:
            return self._vmap(st, table, chain, rule, e["vmap"], depth, where, ref)
        if "dnat" in e:
            return self._dnat(st, table, chain, rule, e["dnat"] or {})
        if "masquerade" in e or "snat" in e:
            step = st.hit(self._step(table, chain, rule, "masquerade" if "masquerade" in e else "snat"))
            st.branch.masquerade = True
            st.branch.masquerade_step = step
            if st.branch.masquerade_why is None:  # no mark on the way: the rule's own match is the reason (hairpin)
                st.branch.masquerade_why = step
            return [(st, ("accept", step, ""))]
        if "mangle" in e:
            return self._mangle(st, table, chain, rule, e["mangle"])
        if "set" in e:  # update @affinity-… { ip saddr }: records the client for the next connection
            return [(st, None)]
        if any(k in e for k in _NEUTRAL):
            return [(st, None)]
        step = st.hit(self._step(table, chain, rule, "not followed"))
        return [(st, ("unknown", step, f"statement {next(iter(e), '?')} is not one the trace follows"))]

    def _match_statement(self, st: State, table: NftTable, match: Any, where: str, ref: str,
                         at: tuple[NftChain, NftRule] | None = None) -> list[tuple[State, Exit | None]]:
        """Go on (matched), next rule (not matched), or both as a fork (undecidable, affinity)."""
        res = self._match(st, table, match, at)
        if res is True:
            return [(st, None)]
        if res is False:
            return [(st, ("continue", None, ""))]
        kind, why = res
        if kind == "affinity":
            a = st.fork(Choice("affinity", where, ref, "matched", None, why[0]))
            b = st.fork(Choice("affinity", where, ref, "not matched", 1.0, why[1]))
        else:
            a = st.fork(Choice("unknown", where, ref, "matched", None, why))
            b = st.fork(Choice("unknown", where, ref, "not matched", None, why))
        return [(a, None), (b, ("continue", None, ""))]

    def _dnat(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, body: dict[str, Any]) -> list[tuple[State, Exit | None]]:
        addr, port = body.get("addr"), body.get("port")
        mapped = addr.get("map") if isinstance(addr, dict) else None
        if isinstance(mapped, dict) and isinstance(mapped.get("key"), dict) and "numgen" in mapped["key"]:
            return self._numgen_dnat(st, table, chain, rule, mapped["key"]["numgen"], mapped.get("data"), port)
        if not isinstance(addr, str) or (port is not None and not isinstance(port, int)):
            step = st.hit(self._step(table, chain, rule, "dnat (not followed)"))
            return [(st, ("unknown", step, "a dnat the trace cannot follow (map or range)"))]
        step = st.hit(self._step(table, chain, rule, f"dnat to {addr}" + (f":{port}" if port is not None else "")))
        st.set_dnat(addr, port, step)
        return [(st, ("accept", step, ""))]

    def _numgen_dnat(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, ng: dict[str, Any], data: Any,
                     port: Any) -> list[tuple[State, Exit | None]]:
        """``dnat ip to numgen random mod N map { 0 : 10.0.0.1 . 80, … }`` (kube-proxy 1.36+, no endpoint
        chains): one branch per value, each with probability 1/N, DNAT'ed to that value's address."""
        counted = numgen_of(ng)
        items = data.get("set") if isinstance(data, dict) else None
        if counted is None or not isinstance(items, list):
            step = st.hit(self._step(table, chain, rule, "dnat (not followed)"))
            return [(st, ("unknown", step, "a dnat the trace cannot follow (map or range)"))]
        mod, offset = counted
        table_of: dict[int, tuple[Any, Any]] = {}
        for item in items:
            k, v = item if isinstance(item, list) and len(item) == 2 else (None, None)
            pair = v.get("concat") if isinstance(v, dict) else [v, port]
            if isinstance(k, int) and isinstance(pair, list) and len(pair) == 2:
                table_of[k] = (pair[0], pair[1])
        where = f"{table.family} {table.name} {chain.name} #{rule.position}"
        ref = rule.loc.ref if rule.loc else table.ref
        out: list[tuple[State, Exit | None]] = []
        for value, name, s in self._numgen_forks(st, where, ref, mod, offset, table_of):
            addr, to_port = table_of.get(value, (None, None)) if value is not None else (None, None)
            if not isinstance(addr, str) or (to_port is not None and not isinstance(to_port, int)):
                step = s.hit(self._step(table, chain, rule, f"{name}: no address"))
                out.append((s, ("unknown", step, f"{name} maps to no address the trace can follow")))
                continue
            step = s.hit(self._step(table, chain, rule, f"dnat to {addr}" + (f":{to_port}" if to_port is not None else "")))
            s.set_dnat(addr, to_port, step)
            out.append((s, ("accept", step, "")))
        return out

    def _numgen_forks(self, st: State, where: str, ref: str, mod: int, offset: int,
                      keys: Iterable[Any]) -> Iterator[tuple[int | None, str, State]]:
        """A branch for each numgen value the map holds (``keys``), each with probability 1/mod, as (value, its
        name in the steps, branch); the values it lacks as one branch (value None): a mod of 10^30 with three
        elements is four branches, not a loop over every value."""
        held = sorted(k for k in keys if type(k) is int and offset <= k < offset + mod)
        for value in held:
            yield value, f"numgen {value}", st.fork(Choice("random", where, ref, f"{value} of {mod}", 1.0 / mod,
                                                           f"numgen random mod {mod}: value {value}"))
        missing = mod - len(held)
        if missing == 1:  # (one value: named, as each held one is)
            known = set(held)  # (a list looked up per value: quadratic at 40,000 endpoints)
            value = next(v for v in range(offset, offset + mod) if v not in known)
            yield value, f"numgen {value}", st.fork(Choice("random", where, ref, f"{value} of {mod}", 1.0 / mod,
                                                           f"numgen random mod {mod}: value {value}"))
        elif missing:
            yield None, f"numgen ({missing} of {mod} values)", st.fork(Choice(
                "random", where, ref, f"{missing} of {mod}", missing / mod, f"numgen random mod {mod}: {missing} values without an element"))

    def _mangle(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, body: dict[str, Any]) -> list[tuple[State, Exit | None]]:
        """``meta mark set …`` is followed (the masquerade mark); any other mangle is not."""
        if selector_name(body.get("key")) == "meta mark":
            new = _mark_expr(body.get("value"), st.mark)
            if new is not None:
                step = st.hit(self._step(table, chain, rule, f"mark {st.mark:#x} -> {new:#x}"))
                if new != st.mark and st.branch.masquerade_why is None and chain.hook != "postrouting" and chain.name != "masquerading":
                    st.branch.masquerade_why = step
                st.mark = new
                return [(st, None)]
        step = st.hit(self._step(table, chain, rule, "mangle (not followed)"))
        return [(st, ("unknown", step, "a mangle statement the trace does not follow"))]

    def _verdict(self, st: State, table: NftTable, chain: NftChain, rule: NftRule | None, v: Verdict, depth: int,
                 text: str | None = None, ref: str | None = None) -> list[tuple[State, Exit | None]]:
        if v.kind in ("accept", "drop"):
            step = st.hit(self._step(table, chain, rule, v.kind, text, ref))
            return [(st, (v.kind, step, ""))]
        if v.kind == "return":
            st.hit(self._step(table, chain, rule, "return", text, ref))
            return [(st, ("return", None, ""))]
        if v.kind == "continue":
            return [(st, None)]
        if v.kind in ("jump", "goto") and v.target:
            target = table.chain(v.target)
            step = st.hit(self._step(table, chain, rule, f"{v.kind} {v.target}", text, ref))
            if target is None:
                return [(st, ("unknown", step, f"chain {v.target} is not in the input"))]
            mark_before = st.mark
            out: list[tuple[State, Exit | None]] = []
            for s2, ex in self._chain(st, table, target, depth + 1):
                if s2.mark != mark_before and chain.name != "masquerading" and chain.hook != "postrouting":
                    why = s2.branch.masquerade_why
                    # the jump to the helper chain says why better than the helper's one rule; a mark set by a
                    # rule of its own (kube-proxy 1.36+'s "services #1", commented) says it itself
                    if why is None or (v.target == "mark-for-masquerade" and why.action.startswith("mark")
                                       and why.where.startswith(f"{table.family} {table.name} {v.target} ")):
                        s2.branch.masquerade_why = step
                if ex[0] == "return":
                    out.append((s2, None if v.kind == "jump" else ("return", None, "")))
                else:
                    out.append((s2, ex))
            # a jump that returns goes on with the rest of this rule (and then the next rule)
            return out
        step = st.hit(self._step(table, chain, rule, str(v), text, ref))
        return [(st, ("unknown", step, f"verdict {v} is not followed"))]

    def _vmap(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, body: dict[str, Any], depth: int,
              where: str, ref: str) -> list[tuple[State, Exit | None]]:
        key = body.get("key")
        data = body.get("data")
        if isinstance(key, dict) and "numgen" in key:
            return self._numgen_vmap(st, table, chain, rule, key["numgen"], data, depth, where, ref)
        parts: list[Any] = key["concat"] if isinstance(key, dict) and "concat" in key else [key]
        values = []
        for part in parts:
            val = self._field(st, part)
            if val is _UNKNOWN:
                step = st.hit(self._step(table, chain, rule, "vmap key not known"))
                return [(st, ("unknown", step, f"the vmap key {selector_name(part) or part} cannot be read for this packet"))]
            values.append(val)
        if isinstance(data, str) and data.startswith("@"):
            return self._named_vmap(st, table, chain, rule, data, values, depth, ref)
        v = _anonymous_vmap_verdict(data, values)
        if v is None:
            return [(st, None)]  # no element: the vmap gives no verdict, the rule goes on
        return self._vmap_verdict(st, table, chain, rule, v, depth, rule.raw, ref)

    def _numgen_vmap(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, ng: dict[str, Any], data: Any,
                     depth: int, where: str, ref: str) -> list[tuple[State, Exit | None]]:
        """``numgen random mod N vmap { 0 : goto …, … }``: one branch per value, each with probability 1/N."""
        counted = numgen_of(ng)
        items = data.get("set", []) if isinstance(data, dict) else []
        if counted is None or not isinstance(items, list):
            step = st.hit(self._step(table, chain, rule, "numgen (not followed)"))
            return [(st, ("unknown", step, "a numgen the trace does not follow"))]
        mod, offset = counted
        table_of = {}
        for item in items:
            k, v = item if isinstance(item, list) and len(item) == 2 else (None, None)
            if isinstance(k, int):
                table_of[k] = v
        out: list[tuple[State, Exit | None]] = []
        for value, name, s in self._numgen_forks(st, where, ref, mod, offset, table_of):
            verdict = _to_verdict(table_of.get(value)) if value is not None else None
            if verdict is None:
                s.hit(self._step(table, chain, rule, f"{name}: no element, next rule"))
                out.append((s, ("continue", None, "")))
                continue
            out.extend(self._verdict(s, table, chain, rule, verdict, depth, text=f"{rule.raw}  [numgen {value} : {verdict}]"))
        return [(s, ("continue", None, "") if ex is None else ex) for s, ex in out]

    def _named_vmap(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, name: str, values: list[Any],
                    depth: int, ref: str) -> list[tuple[State, Exit | None]]:
        """A lookup in a map of the table (``vmap @service-ips``)."""
        m = table.set(name)
        if m is None:
            step = st.hit(self._step(table, chain, rule, f"map {name} not in the input"))
            return [(st, ("unknown", step, f"map {name} is not in the input"))]
        element = m.lookup(*values)
        if element is None:
            return [(st, None)]  # no element: the vmap gives no verdict, the rule goes on
        if not isinstance(element.value, Verdict):
            step = st.hit(self._step(table, chain, rule, "vmap element without a verdict"))
            return [(st, ("unknown", step, "a map element whose value is not a verdict"))]
        eref = element.loc.ref if element.loc else ref
        return self._vmap_verdict(st, table, chain, rule, element.value, depth, f"{rule.raw}  [{name} element: {element.raw}]", eref)

    def _vmap_verdict(self, st: State, table: NftTable, chain: NftChain, rule: NftRule, v: Verdict, depth: int,
                      text: str, ref: str) -> list[tuple[State, Exit | None]]:
        """The element's verdict; a jump that returns ends this rule (a vmap is its last statement)."""
        res = self._verdict(st, table, chain, rule, v, depth, text=text, ref=ref)
        return [(s, ("continue", None, "") if ex is None else ex) for s, ex in res]

    # --- matches -----------------------------------------------------------------------

    def _field(self, st: State, sel: Any) -> Any:
        name = selector_name(sel)
        if name in ("ip daddr", "ip6 daddr"):
            return st.dst
        if name in ("ip saddr", "ip6 saddr"):
            return st.src if st.src is not None else _UNKNOWN
        if name in ("meta l4proto", "ip protocol", "ip6 nexthdr"):
            return st.protocol
        if name in ("th dport", "tcp dport", "udp dport", "sctp dport"):
            return st.dport
        if name == "meta mark":
            return st.mark
        return _UNKNOWN

    def _match(self, st: State, table: NftTable, m: dict[str, Any], at: tuple[NftChain, NftRule] | None = None) -> bool | tuple[str, Any]:
        op = m.get("op", "==")
        left, right = m.get("left"), m.get("right")
        mask = None
        if isinstance(left, dict) and "&" in left and isinstance(left["&"], list) and len(left["&"]) == 2:
            left, mask = left["&"]
        name = selector_name(left) or ""
        negate = op == "!="
        if name.startswith("fib ") and name.endswith(" type"):
            which = "saddr" if "saddr" in name else "daddr"
            addr = st.dst if which == "daddr" else None
            local = self.node.is_local(addr) if which == "daddr" else st.src_local()
            want = value_text(right)
            if want != "local":
                return ("unknown", f"fib {which} type {want}")
            if local is None:
                return ("unknown", f"is {addr or st.packet.src_label or 'the source'} a local address of the node? (give --node-ip)")
            return local != negate
        if name == "ct state":
            states = value_text(right)
            states = states if isinstance(states, list) else [states]
            is_new = any(str(s) == "new" for s in states)
            return is_new != negate
        if name == "ct status" and value_text(right) == "dnat":  # kube-proxy 1.36+'s hairpin rule
            return st.dnat_done != negate
        if isinstance(left, dict) and "concat" in left and isinstance(right, str) and right.startswith("@"):
            return self._concat_in(st, table, left["concat"], right, negate)
        if name in ("th dport", "tcp dport", "udp dport", "sctp dport"):
            if name != "th dport" and name.split()[0] != st.protocol:
                return False
            return self._value_in(st.dport, right, table, kind="port", negate=negate)
        if name in ("meta l4proto", "ip protocol", "ip6 nexthdr"):
            v = value_text(right)
            vals = v if isinstance(v, list) else [v]
            return (st.protocol in {protocol_name(x) for x in vals}) != negate
        if name == "meta mark":
            value = right if isinstance(right, int) else None
            if value is None:
                return ("unknown", f"meta mark compared with {value_text(right)}")
            have = st.mark & mask if isinstance(mask, int) else st.mark
            return (have == value) != negate
        if name in ("ip saddr", "ip6 saddr", "ip daddr", "ip6 daddr"):
            return self._addr_match(st, table, name, right, negate, at)
        return ("unknown", f"match on {name or left} is not one the trace understands")

    def _addr_match(self, st: State, table: NftTable, name: str, right: Any, negate: bool,
                    at: tuple[NftChain, NftRule] | None) -> bool | tuple[str, Any]:
        """``ip saddr|daddr`` against an address, a prefix or a set; a source not given (outside) is decided
        where kube-proxy's rule says what the prefix is (trace.match.outside_excludes), else it forks."""
        addr = st.dst if "daddr" in name else st.src
        if isinstance(right, str) and right.startswith("@"):
            s = table.set(right)
            if s is None:
                return ("unknown", f"set {right} is not in the input")
            if "dynamic" in s.flags or s.timeout is not None or right.startswith("@affinity-"):
                seen = addr is not None and s.lookup(addr) is not None
                now = " (it is in the set in this dump)" if seen else ""
                return ("affinity", (f"a returning client: its address is in {right}{now}",
                                     f"a client not in {right} (its first connection, or the entry expired)"))
            if addr is None:
                return ("unknown", f"the source address ({st.packet.src_label or 'not given'}) is not known: is it in {right}?")
            hit = s.lookup(addr) is not None or any(in_prefix(addr, str(e.key[0])) for e in s.elements if "/" in str(e.key[0]))
            return hit != negate
        if addr is None:
            spec = value_text(right)
            if at is not None and isinstance(spec, str) and st.packet.origin == "remote":  # outside: no address given
                why = outside_excludes(_source_role(*at, negate), spec)
                if why is not None:
                    self.outside.add(spec, why)
                    return negate  # (not in it: the match holds only when negated)
            return ("unknown", f"the source address ({st.packet.src_label or 'not given'}) is not known: is it {'not ' if negate else ''}in {spec}?")
        return self._value_in(addr, right, table, kind="addr", negate=negate)

    def _concat_in(self, st: State, table: NftTable, parts: Any, name: str, negate: bool) -> bool | tuple[str, Any]:
        """``ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections``: the packet's key in a named set."""
        s = table.set(name)
        if s is None:
            return ("unknown", f"set {name} is not in the input")
        values = [self._field(st, p) for p in parts] if isinstance(parts, list) else [_UNKNOWN]
        if any(v is _UNKNOWN for v in values):
            return ("unknown", f"the key of {name} cannot be read for this packet (give the source address)")
        return (s.lookup(*values) is not None) != negate

    def _value_in(self, value: Any, right: Any, table: NftTable, kind: str, negate: bool) -> bool | tuple[str, Any]:
        if isinstance(right, str) and right.startswith("@"):
            s = table.set(right)
            if s is None:
                return ("unknown", f"set {right} is not in the input")
            hit = s.lookup(value) is not None
            return hit != negate
        v = value_text(right)
        vals = v if isinstance(v, list) else [v]
        hit = False
        for x in vals:
            if kind == "port":
                r = port_in(value, str(x))
            else:
                r = in_prefix(value, str(x))
            if r is None:
                return ("unknown", f"cannot compare {value} with {x}")
            hit = hit or r
        return hit != negate


def _source_role(chain: NftChain, rule: NftRule, negated: bool) -> str:
    """What kube-proxy's ``ip saddr`` match means (trace.match.outside_excludes): "pod-range" for a service
    chain's ``ip saddr != CIDR jump mark-for-masquerade`` and an external chain's ``ip saddr CIDR goto
    service-…`` (short-circuit pod traffic), "endpoint" for an endpoint chain's hairpin ``ip saddr ENDPOINT
    jump mark-for-masquerade``, "" for any other rule."""
    verdicts = [v for v in (verdict_of(e) for e in rule.exprs) if v is not None]
    target = verdicts[-1].target or "" if verdicts else ""
    if negated and target == "mark-for-masquerade" and chain.name.startswith("service-"):
        return "pod-range"
    if not negated and chain.name.startswith("external-") and target.startswith("service-"):
        return "pod-range"
    if not negated and chain.name.startswith("endpoint-") and target == "mark-for-masquerade":
        return "endpoint"
    return ""


class _Unknown:
    pass


_UNKNOWN = _Unknown()


def _flat(key: Any) -> list[Any]:
    if isinstance(key, dict) and "concat" in key:
        return list(key["concat"])
    return [key]


def _to_verdict(value: Any) -> Verdict | None:
    if isinstance(value, Verdict):
        return value
    if isinstance(value, dict):
        for kind in ("goto", "jump", "accept", "drop", "return", "continue"):
            if kind in value:
                return Verdict(kind, jump_target(value[kind]))
    return None


def _mark_expr(value: Any, mark: int) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        for op in ("|", "^", "&"):
            if op in value and isinstance(value[op], list) and len(value[op]) == 2:
                a, b = value[op]
                if selector_name(a) == "meta mark" and isinstance(b, int):
                    return {"|": mark | b, "^": mark ^ b, "&": mark & b}[op] & 0xFFFFFFFF
    return None




def trace_nftables(nft: NftRuleset, packet: Packet, node: Node) -> Trace:
    tables = nft.kube_proxy_tables()
    tr = NftTracer(tables, node)
    states = [State.start(packet, node)]
    finished: list[State] = []
    local: list[State] = []
    if packet.origin == "node":
        states, done = tr.run_hook(states, "output")
        finished += done
        leaving = states
    else:
        states, done = tr.run_hook(states, "prerouting")
        finished += done
        local, leaving = routed(states, node, "the forward hook", tr.note)
        local, done = tr.run_hook(local, "input")
        finished += done
        leaving, done = tr.run_hook(leaving, "forward")
        finished += done
    leaving, done = tr.run_hook(leaving, "postrouting")
    finished += done
    close(local, leaving)
    return Trace(packet=packet, mode="nftables", branches=ordered([s.branch for s in finished + local + leaving]), notes=tr.notes + tr.outside.notes())


def _anonymous_vmap_verdict(data: Any, values: list[Any]) -> Verdict | None:
    """The verdict of the inline map's element for these key values, None when none matches."""
    items = data.get("set", []) if isinstance(data, dict) else []
    for item in items:
        if isinstance(item, list) and len(item) == 2 and tuple(normalize_key_part(x) for x in _flat(item[0])) == tuple(values):
            return _to_verdict(item[1])
    return None

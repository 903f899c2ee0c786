"""Follow one packet through iptables rules (iptables mode, and the iptables half of IPVS mode).

Hook order as the kernel runs it for the first packet of a connection:
``nat PREROUTING`` (or ``nat OUTPUT`` then ``filter OUTPUT`` for the node's own traffic),
the routing decision (``filter INPUT`` for a local destination, else ``filter FORWARD``),
then ``nat POSTROUTING`` for a packet that leaves. kube-proxy's own chains hang off those
built-in chains; a dump of kube-proxy's rules alone (its iptables-restore input) has no
built-in chains, so the trace then enters kube-proxy's chains the way kube-proxy hooks
them, and says so.

Matches follow the kernel's modules: addresses and prefixes (with ``!``), protocol, ports
(tcp/udp/sctp, multiport), ``addrtype`` LOCAL, ``mark``, ``conntrack --ctstate``,
``statistic --mode random`` (a fork with its probability), ``recent --rcheck/--update``
(affinity: a fork "returning client" / "first connection"), ``comment`` and ``nfacct``
(no effect). Anything else is an "unknown" fork, said as such.

When the dump came from an iptables that hides native port and mark matches (1.8.7 and
older reading 1.8.8+ rules), the kernel's own listing (``nft list table ip nat``), when given,
supplies the hidden match; without it such a rule is an "unknown" fork.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from kubectl_svcpath.modes.iptables.correlate import hidden_split, whole_cascade
from kubectl_svcpath.modes.iptables.model import UNSUPPORTED, Rule, RuleSet, split_hostport
from kubectl_svcpath.trace.match import (apply_negation, in_prefix, mark_value_mask, negatable, outside_excludes, port_in,
                                         protocol_name)
from kubectl_svcpath.trace.model import Choice, Node, Packet, Step, Trace
from kubectl_svcpath.trace.state import MAX_BRANCHES, OutsideNotes, State, close, finish, ordered, routed

# kube-proxy's jumps from the built-in chains (pkg/proxy/iptables/proxier.go iptablesJumpChains),
# in the order they end up in (each is prepended): used when the dump lacks the built-in chain
KUBE_PROXY_HOOKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("nat", "PREROUTING"): ("KUBE-SERVICES",),
    ("nat", "OUTPUT"): ("KUBE-SERVICES",),
    ("nat", "POSTROUTING"): ("KUBE-POSTROUTING",),
    ("filter", "INPUT"): ("KUBE-PROXY-FIREWALL", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL"),
    ("filter", "FORWARD"): ("KUBE-PROXY-FIREWALL", "KUBE-FORWARD", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES"),
    ("filter", "OUTPUT"): ("KUBE-PROXY-FIREWALL", "KUBE-SERVICES", "KUBE-FIREWALL"),
}
# IPVS mode hooks the same nat chains, and its own filter chains
IPVS_FILTER_HOOKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("filter", "INPUT"): ("KUBE-PROXY-FIREWALL", "KUBE-NODE-PORT", "KUBE-IPVS-FILTER", "KUBE-FIREWALL"),
    ("filter", "FORWARD"): ("KUBE-PROXY-FIREWALL", "KUBE-FORWARD"),
    ("filter", "OUTPUT"): ("KUBE-PROXY-FIREWALL", "KUBE-IPVS-OUT-FILTER", "KUBE-FIREWALL"),
}

_KNOWN_MODULES = {"comment", "tcp", "udp", "sctp", "multiport", "addrtype", "mark", "statistic", "recent",
                  "conntrack", "state", "nfacct", "set", "icmp", "icmp6"}
_NEUTRAL_OPTIONS = {"--comment", "--nfacct-name", "--name", "--mask", "--rsource", "--rdest", "--reap",
                    "--seconds", "--set", "--mode", "--probability", "--hitcount"}
_HANDLED_OPTIONS = {"--dport", "--dports", "--destination-port", "--destination-ports", "--sport", "--sports",
                    "--source-port", "--source-ports", "--dst-type", "--src-type", "--mark", "--ctstate", "--state",
                    "--rcheck", "--update", "--match-set", "--syn"}
_NON_TERMINAL_TARGETS = {"LOG", "NFLOG", "TRACE", "ULOG", "AUDIT", "NFACCT"}
_MAX_DEPTH = 40

Exit = tuple[str, Step | None, str]  # (kind, step, reason): kind "return" | "ACCEPT" | "DROP" | "REJECT" | "unknown"
# (set name, flags, packet) -> matched; None, or a string saying why, when it cannot be told
SetLookup = Callable[[str, str, State], "bool | str | None"]


class IptablesTracer:
    def __init__(self, rules: RuleSet, node: Node, *, kernel: Any = None,
                 hides: Callable[[Rule], bool | None] | None = None,
                 filter_hooks: dict[tuple[str, str], tuple[str, ...]] | None = None,
                 set_lookup: SetLookup | None = None) -> None:
        self.rules = rules
        self.node = node
        self.kernel = kernel  # skew.Kernel: the kernel's view of iptables-nft tables, or None
        self.hides = hides or (lambda rule: False)
        self.hooks = dict(KUBE_PROXY_HOOKS)
        self.hooks.update(filter_hooks or {})
        self.set_lookup = set_lookup
        self.notes: list[str] = []
        self.outside = OutsideNotes()  # what --trace outside decided about source matches
        self.kernel_used = False
        self._noted: set[str] = set()

    def note(self, text: str) -> None:
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append(text)

    # --- hooks ---------------------------------------------------------------------------

    def run_hook(self, states: list[State], table: str, chain: str) -> tuple[list[State], list[State]]:
        """Run every state through one built-in chain; returns (states going on, states finished)."""
        going: list[State] = []
        done: list[State] = []
        for st in states:
            for s2, (kind, step, reason) in self._base(st, table, chain):
                if kind in ("return", "ACCEPT"):
                    going.append(s2)
                else:
                    finish(s2, kind, step, reason)
                    done.append(s2)
        return going, done

    def _base(self, st: State, table: str, chain: str) -> list[tuple[State, Exit]]:
        t = self.rules.table(table)
        if t is None:
            return [(st, ("return", None, ""))]
        c = t.chain(chain)
        if c is not None:  # declared, even without rules: then kube-proxy's jump is really missing
            hooked = [n for n in self.hooks.get((table, chain), ()) if t.chain(n) is not None]
            jumps = {r.target for r in c.rules}
            missing = [n for n in hooked if n not in jumps and n != "KUBE-FIREWALL"]
            entered: list[tuple[State, Exit]] = [(st, ("return", None, ""))]
            if missing and self.rules.chain_complete(table, chain):
                self.note(f"{table} {chain} does not jump to {', '.join(missing)}: kube-proxy's rules there are not "
                          f"reached from it (kube-proxy adds these jumps when it starts)")
            elif missing:  # shown in part (a diff, an excerpt): kube-proxy's jump, put first, may be among what is not
                self.note(f"{table} {chain} is in the input in part, without kube-proxy's jump to {', '.join(missing)}: "
                          f"entered {'it' if len(missing) == 1 else 'them'} the way kube-proxy hooks "
                          f"{'it' if len(missing) == 1 else 'them'} from {chain}, before the rules shown")
                entered = self._hooked(st, table, chain, missing, "not among the built-in chain's rules shown")
            results = []
            for s1, ex1 in entered:
                for s2, ex in (self._chain(s1, table, chain, 0) if ex1[0] == "return" else [(s1, ex1)]):
                    if ex[0] == "return":
                        policy = (c.policy or "ACCEPT").upper()
                        if policy in ("DROP", "REJECT"):
                            step = Step(f"{table} {chain}", f":{chain} {policy}", c.name, f"policy {policy}", packets=c.packets)
                            s2.hit(step)
                            ex = (policy, step, f"the policy of {table} {chain} is {policy}")
                    results.append((s2, ex))
            return results
        # the built-in chain is not in the input: enter kube-proxy's chains as kube-proxy hooks them
        hooks = self.hooks.get((table, chain), ())
        present = [name for name in hooks if t.chain(name) is not None]
        if not present and hooks and table == "nat" and chain in ("PREROUTING", "OUTPUT") and not t.complete:
            # a part of the nat table (a grep, an excerpt) without KUBE-SERVICES: whether a Service rule takes the packet
            # is unknown (the filter table's chains only drop or reject; their absence is said in a note)
            return [(st, ("unknown", None, f"{table} {chain} and kube-proxy's {', '.join(hooks)} are not in the input"))]
        if not present:
            return [(st, ("return", None, ""))]
        self.note(f"{table} {chain} is not in the input: entered {', '.join(present)} the way kube-proxy hooks "
                  f"{'it' if len(present) == 1 else 'them'} from {chain}")
        return self._hooked(st, table, chain, present, "built-in chain not in the input")

    def _hooked(self, st: State, table: str, chain: str, names: list[str], why: str) -> list[tuple[State, Exit]]:
        """kube-proxy's jumps from built-in ``chain`` to ``names``, assumed (the input does not show them), each run."""
        states: list[tuple[State, Exit]] = [(st, ("return", None, ""))]
        for name in names:
            nxt: list[tuple[State, Exit]] = []
            for s, ex in states:
                if ex[0] != "return":
                    nxt.append((s, ex))
                    continue
                s.hit(Step(f"{table} {chain}", f"-A {chain} -j {name}", "(kube-proxy's hook, assumed)", f"jump {name}",
                           note=why))
                nxt.extend(self._chain(s, table, name, 1))
            states = nxt  # an ACCEPT in one of them ends the built-in chain, as in the kernel
        return states

    # --- chains --------------------------------------------------------------------------

    def _chain(self, st: State, table: str, chain: str, depth: int, start: int = 0) -> list[tuple[State, Exit]]:
        """Run ``chain`` from rule ``start``; every way out, with the state that takes it."""
        if depth > _MAX_DEPTH:
            return [(st, ("unknown", None, f"jumps nest deeper than {_MAX_DEPTH} chains (a loop?)"))]
        c = self.rules.chain(table, chain)
        if c is None:
            return [(st, ("unknown", None, f"chain {table} {chain} is not in the input"))]
        rules = c.rules
        out: list[tuple[State, Exit]] = []
        pending: list[tuple[State, int]] = [(st, start)]
        hidden = self._jumps_not_shown(table, chain, rules)
        forked: set[int] = set()
        while pending:
            s, i = pending.pop()
            while i < len(rules):
                rule = rules[i]
                if i == hidden and id(s) not in forked:
                    why = (f"{table} {chain} shows some of its endpoints' jumps: a jump not shown (another endpoint's) "
                           "may take the packet before the ones shown")
                    where = f"{table} {chain} #{rule.position}"
                    out.append((s.fork(Choice("unknown", where, "", "a jump not shown takes it", None, why)),
                                ("unknown", None, why)))
                    s = s.fork(Choice("unknown", where, "", "no jump not shown takes it", None, why))
                    forked.add(id(s))
                alternatives = self._match(s, rule)
                if len(alternatives) == 1 and not alternatives[0][0]:
                    i += 1
                    continue
                forks = [(s if len(alternatives) == 1 else s.fork(choice), matched) for matched, choice in alternatives]
                s = None  # type: ignore[assignment]
                for s2, matched in forks:
                    if not matched:
                        pending.append((s2, i + 1))
                        continue
                    for s3, ex in self._apply(s2, table, chain, rule, depth):
                        if ex[0] == "continue":
                            pending.append((s3, i + 1))
                        else:
                            out.append((s3, ex))
                if len(out) + len(pending) > MAX_BRANCHES:
                    self.note(f"more than {MAX_BRANCHES} branches: the trace was cut short")
                    return out
                break
            else:
                out.extend(self._fall_off(s, table, chain))
        return out

    def _jumps_not_shown(self, table: str, chain: str, rules: list[Rule]) -> int | None:
        """Where a service chain shown in part may hold endpoints' jumps the input does not show: before its first
        endpoint jump shown (the report's "any others not in the input"); None when its jumps are all shown."""
        if not chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) or self.rules.chain_complete(table, chain):
            return None
        first = next((i for i, r in enumerate(rules)
                      if (r.target or "").startswith("KUBE-SEP-") and "--rcheck" not in r.options), None)
        return None if first is None or whole_cascade(self.rules, rules) else first

    def _fall_off(self, st: State, table: str, chain: str) -> list[tuple[State, Exit]]:
        """The end of a chain. When the input does not hold all its rules, one not shown may still match."""
        if self.rules.chain_complete(table, chain):
            return [(st, ("return", None, ""))]
        why = f"{table} {chain} is not whole in the input (a paste or an excerpt): a rule not shown may match here"
        where = f"{table} {chain} (end)"
        stop = st.fork(Choice("unknown", where, "", "a rule not shown decides", None, why))
        on = st.fork(Choice("unknown", where, "", "no rule not shown matches", None, why))
        return [(stop, ("unknown", None, why)), (on, ("return", None, ""))]

    def _step(self, rule: Rule, action: str, note: str | None = None) -> Step:
        return Step(f"{rule.table} {rule.chain} #{rule.position}", rule.raw, rule.ref, action, note, rule.packets)

    def _apply(self, st: State, table: str, chain: str, rule: Rule, depth: int) -> list[tuple[State, Exit]]:
        """What the rule's target does; "continue" means: go on with the next rule of this chain."""
        target = rule.target
        note = st.kernel_note
        if target is None:
            st.hit(self._step(rule, "no target (counts only)", note))
            return [(st, ("continue", None, ""))]
        if target in ("ACCEPT", "DROP", "REJECT"):
            step = st.hit(self._step(rule, target, note))
            return [(st, (target, step, ""))]
        if target == "RETURN":
            st.hit(self._step(rule, "RETURN", note))
            return [(st, ("return", None, ""))]
        if target == "DNAT":
            return self._dnat(st, rule, note)
        if target in ("MASQUERADE", "SNAT"):
            return self._snat(st, rule, note)
        if target == "MARK":
            return self._set_mark(st, table, chain, rule, note)
        if target in _NON_TERMINAL_TARGETS:
            st.hit(self._step(rule, target, note))
            return [(st, ("continue", None, ""))]
        if self.rules.chain(table, target) is not None:
            return self._jump(st, table, chain, rule, depth, note)
        if target.startswith("KUBE-") or not target.isupper():
            return self._jump_out_of_input(st, table, rule, note)
        step = st.hit(self._step(rule, f"-j {target}", note))
        return [(st, ("unknown", step, f"target {target} is not one the trace follows"))]

    def _dnat(self, st: State, rule: Rule, note: str | None) -> list[tuple[State, Exit]]:
        dest = rule.to_destination
        if not dest:  # (an older iptables' '-j DNAT [unsupported revision]', nft's 'xt target "DNAT"')
            step = st.hit(self._step(rule, "DNAT (its destination is not in the input)", note))
            how = ("the iptables that listed it printed '[unsupported revision]' in place of it" if UNSUPPORTED in rule.target_options
                   else "the listing does not show it (nft prints iptables-nft's DNAT as 'xt target \"DNAT\"')")
            return [(st, ("unknown", step, f"where this DNAT sends the packet is not in the input: {how}"))]
        ip, port = split_hostport(dest)
        step = st.hit(self._step(rule, f"DNAT to {dest}", note))
        if not ip or "-" in ip or (dest and "-" in dest.rpartition(":")[2]):
            return [(st, ("unknown", step, f"DNAT to a range ({dest}) is not followed"))]
        st.set_dnat(ip, port, step)
        return [(st, ("ACCEPT", step, ""))]

    def _snat(self, st: State, rule: Rule, note: str | None) -> list[tuple[State, Exit]]:
        action = "MASQUERADE" if rule.target == "MASQUERADE" else f"SNAT to {rule.target_options.get('--to-source', ['?'])[0]}"
        step = st.hit(self._step(rule, action, note))
        st.branch.masquerade = True
        st.branch.masquerade_step = step
        if st.branch.masquerade_why is None:  # no mark on the way: the rule's own match is the reason (hairpin)
            st.branch.masquerade_why = step
        return [(st, ("ACCEPT", step, ""))]

    def _set_mark(self, st: State, table: str, chain: str, rule: Rule, note: str | None) -> list[tuple[State, Exit]]:
        new = _mark_target(st.mark, rule.target_options, rule.raw)
        if new is None:
            step = st.hit(self._step(rule, "MARK (options not understood)", note))
            return [(st, ("unknown", step, "a MARK target with options the trace does not understand"))]
        step = st.hit(self._step(rule, f"mark {st.mark:#x} -> {new:#x}", note))
        if new != st.mark and st.branch.masquerade_why is None and table == "nat" and chain != "KUBE-POSTROUTING":
            st.branch.masquerade_why = step
        st.mark = new
        return [(st, ("continue", None, ""))]

    def _jump(self, st: State, table: str, chain: str, rule: Rule, depth: int, note: str | None) -> list[tuple[State, Exit]]:
        """Into a chain of the input and back: a jump goes on here, a goto returns to the caller."""
        target = rule.target or ""
        step = st.hit(self._step(rule, ("goto " if rule.goto else "jump ") + target, note))
        mark_before = st.mark
        results: list[tuple[State, Exit]] = []
        for s2, ex in self._chain(st, table, target, depth + 1):
            if s2.mark != mark_before and table == "nat" and chain != "KUBE-POSTROUTING":
                why = s2.branch.masquerade_why
                if why is None or (why.action.startswith("mark") and why.where.startswith(f"nat {target} ")):
                    s2.branch.masquerade_why = step  # the rule that sent it to KUBE-MARK-MASQ
            if ex[0] == "return":
                # back from a jump: the next rule here; back from a goto: the caller's next rule
                results.append((s2, ("return", None, "") if rule.goto else ("continue", None, "")))
            else:
                results.append((s2, ex))
        return results

    def _jump_out_of_input(self, st: State, table: str, rule: Rule, note: str | None) -> list[tuple[State, Exit]]:
        """A jump to a chain the input does not hold: it stops here, or (a jump) it may only return."""
        target = rule.target
        if table == "nat" and target in ("KUBE-MARK-MASQ", "KUBE-MARK-DROP") and not rule.goto:
            # kube-proxy's own: one MARK rule (its bit is a flag's, so the mark is not known), then back
            step = st.hit(self._step(rule, f"-j {target} (not in the input: kube-proxy's, marks the packet and returns)", note))
            st.mark_unknown = True
            if target == "KUBE-MARK-MASQ" and st.branch.masquerade_why is None:
                st.branch.masquerade_why = step
            return [(st, ("continue", None, ""))]
        missing = f"chain {table} {target} is not in the input"
        if table == "nat" and (target or "").startswith("KUBE-SEP-"):
            # kube-proxy ends every endpoint chain with its DNAT (for the protocol its entry rule matched): a packet sent
            # to one does not come back, so its path ends there, not known further, with the share that sent it there
            # (ten endpoint chains not in the input forked 2^10 ways, "stops here" or "returns", cut at 4096)
            step = st.hit(self._step(rule, f"-j {target} (not in the input: an endpoint chain, which ends in its DNAT)", note))
            return [(st, ("unknown", step, missing))]
        where = f"{rule.table} {rule.chain} #{rule.position}"
        stop = st.fork(Choice("unknown", where, rule.ref, "stops here", None, missing))
        step = stop.hit(self._step(rule, f"-j {target}", note))
        if rule.goto:
            return [(stop, ("unknown", step, missing))]
        # the chain may only mark and return (KUBE-MARK-MASQ does): follow that case too, said as such
        on = st.fork(Choice("unknown", where, rule.ref, "returns", None, f"{missing}: assumed to return without a verdict"))
        on.hit(self._step(rule, f"-j {target} (not in the input; assumed to return)", note))
        on.mark_unknown = True
        return [(stop, ("unknown", step, missing)), (on, ("continue", None, ""))]

    # --- matches -------------------------------------------------------------------------

    def _match(self, st: State, rule: Rule) -> list[tuple[bool, Choice | None]]:
        """[(matched, choice)]: one entry when the match is decided, two when it forks."""
        st.kernel_note = None
        unknown: list[str] = []  # why the match cannot be decided (it forks)
        if rule.partial:
            unknown.append("the paste cut words out of this rule: its matches are not all shown")
        if (rule.target or "").startswith("KUBE-SEP-") and rule.probability is None \
                and rule in hidden_split(self.rules.rules_of(rule.table or "nat", rule.chain)):
            unknown.append("the listing shows no match on this endpoint jump, which kube-proxy writes only on the last "
                           "one: it hides the -m statistic match that splits the traffic")
        if not self._header_matches(st, rule, unknown):
            return [(False, None)]
        for module in rule.matches:
            if module not in _KNOWN_MODULES:
                unknown.append(f"-m {module} is not a match the trace understands")
        if self._kernel_matches(st, rule, unknown) is False:
            return [(False, None)]
        for key, values in rule.options.items():
            if key in _NEUTRAL_OPTIONS:
                continue
            if key not in _HANDLED_OPTIONS:
                unknown.append(f"option {key} is not one the trace understands")
                continue
            if not self._option_matches(st, key, " ".join(values), rule.options, unknown):
                return [(False, None)]
        return _outcomes(rule, unknown)

    def _header_matches(self, st: State, rule: Rule, unknown: list[str]) -> bool:
        """-p, -s, -d, -i, -o: False when one surely fails; an undecidable one is noted in ``unknown``."""
        if rule.protocol:
            neg, proto = negatable(rule.protocol)
            proto = protocol_name(proto) or ""
            if proto not in ("all", "0") and not _decide(unknown, apply_negation(proto == st.protocol, neg), ""):
                return False
        if rule.source_addr:
            neg, spec = negatable(rule.source_addr)
            inside = in_prefix(st.src, spec)
            if inside is None and st.packet.origin == "remote" and st.src is None:  # outside: no address given
                inside = self._outside_in(rule, neg, spec)
            if not _decide(unknown, apply_negation(inside, neg),
                           f"the source address ({st.packet.src_label or 'not given'}) is not known: is it {'not ' if neg else ''}in {spec}?"):
                return False
        if rule.dest_addr:
            neg, spec = negatable(rule.dest_addr)
            if not _decide(unknown, apply_negation(in_prefix(st.dst, spec), neg), f"destination {st.dst} vs {spec}"):
                return False
        for flag, iface in (("-i", rule.in_iface), ("-o", rule.out_iface)):
            if iface:
                res = self._iface(st, flag, iface)
                if not _decide(unknown, res, f"the {'input' if flag == '-i' else 'output'} interface is not known ({flag} {iface})"):
                    return False
        return True

    def _outside_in(self, rule: Rule, neg: bool, spec: str) -> bool | None:
        """A client outside the cluster against a source match: False (not in it) where kube-proxy's rule
        says what the prefix is (its pod range, an endpoint, loopback), else None: its address decides."""
        why = outside_excludes(_source_role(rule, neg), spec) or self._in_pod_range(spec)
        if why is None:
            return None
        self.outside.add(spec, why)
        return False

    def _in_pod_range(self, spec: str) -> str | None:
        """A prefix inside a pod range kube-proxy's rules gave this trace already (a network policy's "-s POD/32" in
        filter, after nat's "! -s CIDR" local-traffic match): no client outside the cluster is in it either."""
        pod_range = outside_excludes("pod-range", "0.0.0.0/0")
        ranges = [r for r, why in self.outside.decided.items() if why == pod_range]
        if not ranges:
            return None
        try:
            net = ipaddress.ip_network(spec.strip(), strict=False)
            inside = next((r for r in ranges if net.version == ipaddress.ip_network(r, strict=False).version
                           and net.subnet_of(ipaddress.ip_network(r, strict=False))), None)  # type: ignore[arg-type]
        except ValueError:
            return None
        return None if inside is None or inside == spec.strip() else f"inside {inside}, {pod_range}"

    def _option_matches(self, st: State, key: str, value: str, opts: dict[str, list[str]], unknown: list[str]) -> bool:
        """One match option: False when it surely fails; an undecidable one is noted in ``unknown``."""
        if key in ("--dport", "--dports", "--destination-port", "--destination-ports"):
            neg, spec = negatable(value)
            return _decide(unknown, apply_negation(port_in(st.dport, spec), neg), f"port spec {value}")
        if key in ("--sport", "--sports", "--source-port", "--source-ports"):
            return _decide(unknown, None, f"the source port is not known ({key} {value})")
        if key in ("--dst-type", "--src-type"):
            return self._addrtype_matches(st, key, value, opts, unknown)
        if key == "--mark":
            return _mark_matches(st, value, unknown)
        if key in ("--ctstate", "--state"):
            return _ctstate_matches(st, value, unknown)
        if key == "--syn":
            return st.protocol == "tcp"
        if key == "--match-set":
            neg, spec = negatable(value)
            name, _, flags = spec.partition(" ")
            res = self.set_lookup(name, flags, st) if self.set_lookup else None
            why = res if isinstance(res, str) else f"ipset {name} ({flags}): its members are not in the input"
            return _decide(unknown, apply_negation(None if isinstance(res, str) else res, neg), why)
        return True

    def _addrtype_matches(self, st: State, key: str, value: str, opts: dict[str, list[str]], unknown: list[str]) -> bool:
        neg, kind = negatable(value)
        if "--limit-iface-in" in opts or "--limit-iface-out" in opts:
            unknown.append("addrtype --limit-iface-* is not followed")
            return True
        if kind.upper() != "LOCAL":
            unknown.append(f"addrtype {key} {kind}: only LOCAL is followed")
            return True
        addr = st.dst if key == "--dst-type" else None
        local = self.node.is_local(addr) if key == "--dst-type" else st.src_local()
        what = f"is {addr or st.packet.src_label or 'the source'} a local address of the node? (give --node-ip)"
        return _decide(unknown, apply_negation(local, neg), what)

    def _iface(self, st: State, flag: str, spec: str) -> bool | None:
        neg, name = negatable(spec)
        if flag == "-i" and st.packet.origin == "node":
            return apply_negation(False, neg)  # locally generated: no input interface
        if flag == "-i" and name == "lo" and st.packet.src is not None and not self.node.is_local(st.packet.src):
            return apply_negation(False, neg)
        return None

    def _kernel_matches(self, st: State, rule: Rule, unknown: list[str]) -> bool | None:
        """Matches the listing hides but the kernel applies. False: the kernel's match fails."""
        hides = self.hides(rule)
        if hides is False or not _may_hide(rule):
            return None
        k = self.kernel.find(rule) if self.kernel else None
        if k is None:
            # kube-proxy always writes the port (and mark) match these rules lack: as printed they match more
            # than the kernel does when an older iptables listed newer rules. Both outcomes, said once why.
            unknown.append("the listing may hide a port or mark match of this rule")
            if hides:
                self.note("this listing comes from an iptables that cannot print native port and mark matches (1.8.7 "
                          "or older reading 1.8.8+ rules): where a rule may hide one, the trace follows both outcomes; "
                          "pass the kernel's view too (nft -j list table ip nat) to decide them")
            else:
                self.note("some rules lack the port or mark match kube-proxy always writes (an older iptables than "
                          "kube-proxy's hides them when listing): the trace follows both outcomes there; pass the "
                          "kernel's view (nft -j list table ip nat) or iptables-save from the kube-proxy pod to decide them")
            return None
        summary = k.summary
        notes = []
        if rule.dport is None and summary.dport is not None:
            spec = str(summary.dport).strip("{}")
            neg, spec = negatable(spec)
            notes.append(f"{summary.protocol or ''} dport {summary.dport}".strip())
            if apply_negation(port_in(st.dport, spec), neg) is False:
                st.kernel_note = None
                return False
        if "--mark" not in rule.options and summary.mark:
            neg, spec = negatable(str(summary.mark))
            vm = mark_value_mask(spec)
            notes.append(f"mark {summary.mark}")
            if vm is not None and apply_negation((st.mark & vm[1]) == vm[0], neg) is False:
                return False
        if notes:
            self.kernel_used = True
            st.kernel_note = f"kernel's view: {', '.join(notes)} ({k.ref})"
        return None


def _may_hide(rule: Rule) -> bool:
    """A rule whose listing may lack a native port or mark match (shared/docs/iptables-version-skew.md)."""
    chain = rule.chain
    if rule.protocol in ("tcp", "udp") and rule.dport is None and "--dports" not in rule.options:
        if chain in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-PROXY-FIREWALL"):
            return True
        if chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) and rule.target == "KUBE-MARK-MASQ":
            return True
    if ("--mark" not in rule.options and rule.target in ("RETURN", "ACCEPT", "DROP")
            and chain in ("KUBE-POSTROUTING", "KUBE-FORWARD", "KUBE-FIREWALL")
            and not (rule.source_addr or rule.dest_addr or rule.protocol) and "--ctstate" not in rule.options):
        return True  # a mark match that an old iptables left out (e.g. KUBE-POSTROUTING's "-j RETURN")
    return False


_LIST_MARK = re.compile(r"\bMARK (x?set|or|xor|and) (0x[0-9a-fA-F]+(?:/0x[0-9a-fA-F]+)?)\s*$")
_LIST_OPTION = {"xset": "--set-xmark", "set": "--set-mark", "or": "--or-mark", "xor": "--xor-mark", "and": "--and-mark"}


def _mark_target(mark: int, opts: dict[str, list[str]], raw: str = "") -> int | None:
    if not any(k.endswith("-mark") or k == "--set-xmark" for k in opts):
        listed = _LIST_MARK.search(raw)  # iptables -L prints "MARK or 0x4000", "MARK xset 0x4000/0x4000"
        if listed:
            opts = {_LIST_OPTION[listed.group(1)]: [listed.group(2)]}

    def num(key: str) -> tuple[int, int] | None:
        values = opts.get(key)
        return mark_value_mask(values[0]) if values else None

    if (vm := num("--set-xmark")) is not None:
        v, m = vm
        return ((mark & ~m) ^ v) & 0xFFFFFFFF
    if (vm := num("--set-mark")) is not None:
        v, m = vm
        return ((mark & ~m) | v) & 0xFFFFFFFF
    if (vm := num("--or-mark")) is not None:
        return mark | vm[0]
    if (vm := num("--xor-mark")) is not None:
        return mark ^ vm[0]
    if (vm := num("--and-mark")) is not None:
        return mark & vm[0]
    return None




def trace_iptables(rules: RuleSet, packet: Packet, node: Node, *, kernel: Any = None,
                   hides: Callable[[Rule], bool | None] | None = None, mode: str = "iptables",
                   filter_hooks: dict[tuple[str, str], tuple[str, ...]] | None = None,
                   set_lookup: SetLookup | None = None,
                   between: Callable[[list[State], IptablesTracer], tuple[list[State], list[State]]] | None = None,
                   dump_given: bool = True) -> Trace:
    """Every way ``packet`` can go through ``rules``. ``between`` runs after the routing decision
    and the filter chains of the local path (IPVS picks its real server there). ``dump_given`` False: the
    input holds no iptables rules at all (IPVS mode without iptables-save), which the caller says once, instead
    of a note for each table missing."""
    tr = IptablesTracer(rules, node, kernel=kernel, hides=hides, filter_hooks=filter_hooks, set_lookup=set_lookup)
    if rules.table("filter") is None and dump_given:
        tr.note("no filter table in the input: kube-proxy's REJECT and DROP rules (no endpoints, "
                "externalTrafficPolicy Local, loadBalancerSourceRanges) were not evaluated")
    if rules.table("nat") is None and dump_given:
        tr.note("no nat table in the input: no Service rule could rewrite the destination")
    if any(not t.complete for t in rules.tables.values()):
        tr.note("the input is not a whole table dump (a paste, an excerpt or a listing): only the rules shown were "
                "evaluated, and a rule left out may match first")
    states = [State.start(packet, node)]
    finished: list[State] = []
    if packet.origin == "node":
        states, done = tr.run_hook(states, "nat", "OUTPUT")
        finished += done
        states, done = tr.run_hook(states, "filter", "OUTPUT")
        finished += done
        local: list[State] = []
        leaving = states
        if between is not None:
            states, done = between(states, tr)
            finished += done
            leaving = states
    else:
        states, done = tr.run_hook(states, "nat", "PREROUTING")
        finished += done
        local, leaving = routed(states, node, "FORWARD", tr.note)
        leaving, done = tr.run_hook(leaving, "filter", "FORWARD")
        finished += done
        local, done = tr.run_hook(local, "filter", "INPUT")
        finished += done
        if between is not None:
            local, done = between(local, tr)
            finished += done
            back_local: list[State] = []
            for s in local:  # IPVS rewrote the destination: the packet leaves through POSTROUTING
                (leaving if s.dnat_done and not node.is_local(s.dst) else back_local).append(s)
            local = back_local
    leaving, done = tr.run_hook(leaving, "nat", "POSTROUTING")
    finished += done
    close(local, leaving, _postrouting_seen(tr, leaving))
    for s in local + leaving:
        if s.branch.dnat is None and rules.table("filter") is None and _entered_service(s):
            s.branch.verdict = "unknown"
            s.branch.reason = ("the Service's nat rules did not rewrite the destination; kube-proxy's filter rules "
                               "then drop or reject such packets, and the filter table is not in the input")
    branches = [s.branch for s in finished + local + leaving]
    trace = Trace(packet=packet, mode=mode, branches=ordered(branches), notes=tr.notes + tr.outside.notes(), kernel_view=tr.kernel_used)
    return trace


def _entered_service(s: State) -> bool:
    return any(" KUBE-" in f" {st.where}" and any(p in st.where for p in ("KUBE-FW-", "KUBE-EXT-", "KUBE-SVC-", "KUBE-SVL-", "KUBE-XLB-"))
               for st in s.branch.steps)


def _source_role(rule: Rule, neg: bool) -> str:
    """What kube-proxy's source match means (trace.match.outside_excludes): "pod-range" for its local-traffic
    match on a cluster IP (``! -s CIDR -j KUBE-MARK-MASQ``, in KUBE-SVC- or, older and IPVS, KUBE-SERVICES) and
    for pod traffic to an external address (``-s CIDR -j KUBE-SVC-`` in KUBE-EXT-/KUBE-XLB-), "endpoint" for an
    endpoint chain's hairpin (``-s ENDPOINT -j KUBE-MARK-MASQ``), "" for any other rule."""
    chain, target = rule.chain, rule.target or ""
    if neg and target == "KUBE-MARK-MASQ" and (chain == "KUBE-SERVICES" or chain.startswith(("KUBE-SVC-", "KUBE-SVL-"))):
        return "pod-range"
    if not neg and chain.startswith(("KUBE-EXT-", "KUBE-XLB-")) and target.startswith(("KUBE-SVC-", "KUBE-SVL-")):
        return "pod-range"
    if not neg and chain.startswith("KUBE-SEP-") and target == "KUBE-MARK-MASQ":
        return "endpoint"
    return ""


def _decide(unknown: list[str], result: bool | None, why: str) -> bool:
    """A decided match as it is; an undecidable one counts as matched, its reason kept for the fork."""
    if result is None:
        unknown.append(why)
        return True
    return result


def _postrouting_seen(tr: IptablesTracer, leaving: list[State]) -> bool:
    """nat POSTROUTING or kube-proxy's KUBE-POSTROUTING is in the input: a packet that left without a masquerade
    rule kept its source. Else (a grep of one Service's rules) whether it is masqueraded is not known: said once."""
    if any(tr.rules.chain("nat", c) is not None for c in ("POSTROUTING", "KUBE-POSTROUTING")):
        return True
    if any(s.branch.dnat is not None for s in leaving):
        tr.note("nat POSTROUTING and KUBE-POSTROUTING are not in the input: whether the source is masqueraded is not known")
    return False


def _mark_matches(st: State, value: str, unknown: list[str]) -> bool:
    neg, spec = negatable(value)
    vm = mark_value_mask(spec)
    if vm is None:
        unknown.append(f"mark spec {value}")
        return True
    if st.mark_unknown:
        unknown.append("the packet's mark is not known (a chain that may set it is not in the input)")
        return True
    return apply_negation((st.mark & vm[1]) == vm[0], neg) is not False


def _ctstate_matches(st: State, value: str, unknown: list[str]) -> bool:
    neg, spec = negatable(value)
    states = {s.strip().upper() for s in spec.split(",")}
    have = {"NEW"} | ({"DNAT"} if st.dnat_done else set())
    known = {"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "DNAT", "SNAT"}
    if not states <= known:
        unknown.append(f"conntrack state {spec}")
        return True
    return apply_negation(bool(states & have), neg) is not False


def _outcomes(rule: Rule, unknown: list[str]) -> list[tuple[bool, Choice | None]]:
    """The rule's header and options passed: matched, or a fork (undecidable, affinity, random)."""
    where = f"{rule.table} {rule.chain} #{rule.position}"
    opts = rule.options
    if unknown:
        why = "; ".join(w for w in unknown if w) or "a match the trace cannot decide"
        return [(True, Choice("unknown", where, rule.ref, "matched", None, why)),
                (False, Choice("unknown", where, rule.ref, "not matched", None, why))]
    if "--rcheck" in opts or "--update" in opts:
        seconds = (opts.get("--seconds") or ["?"])[0]
        name = (opts.get("--name") or ["?"])[0]
        return [(True, Choice("affinity", where, rule.ref, "matched", None,
                              f"a returning client: it connected through {name} in the last {seconds} s")),
                (False, Choice("affinity", where, rule.ref, "not matched", 1.0,
                               f"a client with no connection through {name} in the last {seconds} s"))]
    if "statistic" in rule.matches or "--probability" in opts:
        return _statistic_outcomes(rule, where)
    return [(True, None)]


def _statistic_outcomes(rule: Rule, where: str) -> list[tuple[bool, Choice | None]]:
    mode = (rule.options.get("--mode") or ["random"])[0]
    p = rule.probability
    if mode != "random" or p is None:
        return [(True, Choice("unknown", where, rule.ref, "matched", None, f"statistic --mode {mode}")),
                (False, Choice("unknown", where, rule.ref, "not matched", None, f"statistic --mode {mode}"))]
    alts: list[tuple[bool, Choice | None]] = []
    if p > 0:
        alts.append((True, Choice("random", where, rule.ref, "matched", p, f"random: probability {p:.4g}")))
    if p < 1:
        alts.append((False, Choice("random", where, rule.ref, "not matched", 1 - p, f"random: probability {1 - p:.4g} of going on")))
    return alts

"""Parse ``iptables [-t nat] -L -n [-v] [-x] [--line-numbers]`` listings into the rule model.

This is what people paste most. It carries less than iptables-save: no table name, no
``--comment`` quoting (comments appear as ``/* … */``), ports as ``dpt:80``, DNAT as
``to:IP:PORT``, and without ``-v`` no counters; without ``-x`` counters are rounded (``12K``).
"""

from __future__ import annotations

import math
import re

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.endpoints import ip_family
from kubectl_svcpath.modes.iptables import comments
from kubectl_svcpath.modes.iptables.model import (UNSUPPORTED, Chain, DumpInfo, Rule, RuleSet, join_rules, same_rule,
                                                  split_hostport)
from kubectl_svcpath.parse.elision import CUT_COMMENT as _CUT_COMMENT, is_elision_word
from kubectl_svcpath.parse.tokens import counter, split_lines
from kubectl_svcpath.modes.iptables.detect import columns as _columns
from kubectl_svcpath.wording import numbered, times

# (words spaced out into columns by `| column -t`: "Chain   KUBE-SERVICES  (2   references)")
_CHAIN = re.compile(r"^Chain\s+(\S+)\s+\((?:policy\s+(\S+)(?:\s+(\S+)\s+packets,\s+(\S+)\s+bytes)?|(\d+)\s+references?)\)")
_COMMENT = re.compile(r"/\* (.*) \*/")
_SUFFIX = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_PROTO_NUM = {"0": "all", "6": "tcp", "17": "udp", "132": "sctp", "1": "icmp", "58": "ipv6-icmp"}


_COUNT = re.compile(r"^\d+[KMGT]?$")
# builtin chains of each table: which table a listing is of, when the user did not say
_BUILTINS = {
    "nat": {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
    "filter": {"INPUT", "FORWARD", "OUTPUT"},
    "mangle": {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
    "raw": {"PREROUTING", "OUTPUT"},
}
_FILTER_ONLY_CHAINS = {"KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-FIREWALL", "KUBE-PROXY-FIREWALL",
                       "KUBE-NODE-PORT-FILTER", "KUBE-IPVS-FILTER", "KUBE-IPVS-OUT-FILTER", "KUBE-SOURCE-RANGES-FIREWALL"}
_NAT_ONLY_TARGETS = {"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "KUBE-MARK-MASQ", "KUBE-POSTROUTING", "KUBE-NODEPORTS"}
_FILTER_TARGETS = {"REJECT", "DROP", "ACCEPT"}
# a shell prompt or a command the user pasted with the listing: "# iptables -t filter -L -n -v"
# (the tool's name followed by an option, a pipe or nothing: "走 iptables,而且…", "iptables 一個封包", an author's words
# naming the tool, are no command)
_COMMAND = re.compile(r"(?:^|\s)(?:sudo\s+)?(?:ip6?tables(?:-legacy|-nft)?)\b(?=\S*(?:\s+-|\s*$|\s*[|>]))(?P<args>[^|]*)")
UNKNOWN_CHAIN = "?"  # rules of an -L line pasted without its "Chain …" header and no way to tell the chain
# the chain a listing command names: "-L KUBE-SERVICES", "-nvL KUBE-SVC-…", "--list KUBE-NODEPORTS", "--list=…"
_LISTED_CHAIN = re.compile(r"(?:^|\s)(?:-[A-Za-z]*L|--list)(?:\s+|=)([A-Za-z][\w-]*)(?=\s|$)")


def parse_iptables_list(text: str, source: str, lenient: bool = False, table: str | None = None,
                        elisions: list[int] | None = None) -> RuleSet:
    """Parse a listing of one table (or a listing of each table, one after the other).

    Which table: the ``-t`` of a pasted command line if there is one, else the builtin chains
    and targets the listing shows (INPUT/FORWARD/OUTPUT and REJECT: filter; PREROUTING,
    POSTROUTING and DNAT: nat). A chain whose name repeats starts the listing of another table.
    Lines pasted without their ``Chain`` header (``iptables -L | grep``) are placed in the chain
    kube-proxy writes such a rule to when the rule says it unambiguously (see ``_place``).
    """
    info = DumpInfo(source=source, form="iptables-list", elisions=list(elisions or []))
    listing = _Listing(source, lenient, info, [_Section(table)])
    for line_no, line in enumerate(split_lines(text), 1):
        listing.read_line(line, line_no)
    listing._grepped_header()  # (a header on the listing's last line)
    listing._empty_at_end()
    if not any(sec.chains or sec.loose for sec in listing.sections):
        raise BadDump(source, "no 'Chain …' sections or rule lines found")
    rules = RuleSet()
    listed: dict[tuple[str, str], list[int]] = {}  # (table, chain) -> the lines of its "Chain" headers
    for sec in listing.sections:
        _add_section(rules, sec, info, listing.headerless, listed)
    _note_relisted(listed, info)
    _mark_cut_chains(rules, info)
    if listing.headerless:
        info.form = "iptables-list-lines"
    info.has_counters = listing.counted > 0
    if listing.counted and not listing.exact:
        info.notices.append("counters rounded (K/M/G): list with -x for exact numbers")
    rules.dumps.append(info)
    return rules


class _Listing:
    """Reading an -L listing line by line: the table sections, the chain being listed, the column layout."""

    def __init__(self, source: str, lenient: bool, info: DumpInfo, sections: list[_Section]) -> None:
        self.source, self.lenient, self.info, self.sections = source, lenient, info, sections
        self.chain: Chain | None = None
        self.verbose: bool | None = None  # from the column header (pkts bytes target ...)
        self.numbered: bool | None = None
        self.exact = True  # no counter rounded to K/M/G
        self.counted = 0
        self.headerless = 0
        self.headed = False  # a Chain header was read and its column heads not yet

    def read_line(self, line: str, line_no: int) -> None:
        stripped = line.strip()
        if not stripped:
            if self.chain is not None and self.chain.rules:
                self.chain = None  # a blank line ends a chain's listing: what follows without a header is loose
            sec = self.sections[-1]
            if sec.command_chain and sec.loose:  # (and the listed chain's lines: what follows is no line of it)
                self.sections.append(_Section(sec.command_table))
            return
        if stripped.startswith("Warning:") or "tables present" in stripped:  # iptables' own notice, printed last
            self.info.notices.append(stripped)
            return
        m = _CHAIN.match(stripped)
        if m:
            self._grepped_header()
            self._chain_header(m, stripped, line_no)
        elif stripped.startswith(("#", "$")):
            if stripped.startswith("#") and _COMMAND.search(stripped) is None and "Warning" not in stripped \
                    and "incompatible" not in stripped:
                if _CUT_COMMENT.match("\n" + stripped):  # ("# 省略输出", "# ... omitted ...": the author cut rows out)
                    self.info.elisions.append(line_no)
                return  # the author's note ("# 172.31.9.52 — это виртуальный IP пода", under a Chain header): no command
            self._grepped_header()
            self._command(stripped)
        elif stripped.split()[0] in ("num", "pkts", "target"):
            words = stripped.split()
            self.verbose = "pkts" in words
            self.numbered = words[0] == "num"
            self.headed = False
        else:
            self._grepped_header()
            self._rule_line(line, line_no)

    def _chain_header(self, m: re.Match[str], stripped: str, line_no: int) -> None:
        sec = self.sections[-1]
        name = m.group(1)
        if name in sec.chains or (name in _ALL_BUILTINS and _new_table(sec)):
            sec = _Section(None)
            self.sections.append(sec)
        chain = self.chain = Chain(name)
        self.headed = True
        sec.header_lines[name] = line_no
        chain.declared = True
        chain.complete = True  # a listing prints every rule of a chain under its header
        chain.policy = m.group(2)
        if m.group(3) is not None:
            try:
                chain.packets, chain.bytes = _count(m.group(3)), _count(m.group(4))
            except ValueError:
                raise BadDump(self.source, f"unreadable counters in {stripped[:80]!r}", line_no) from None
        sec.chains[name] = chain

    def _grepped_header(self) -> None:
        """A Chain header followed by anything but the column heads iptables -L always prints under it (a rule line,
        a command, another header, the end): the lines of a grep for the chain's name (`iptables -L -n | grep
        KUBE-EXT-…`). The rule lines after it are other chains' that jump to it, read as lines without their
        header; the chain's own rules are not in the input."""
        chain = self.chain
        if not self.headed or chain is None:
            return
        chain.complete = False
        self.info.repairs.append(f"chain {chain.name}: its header without the column heads under it (grep output): "
                                 "its own rules are not in the input")
        self.chain = None
        self.headed = False

    def _empty_at_end(self) -> None:
        """A per-service chain whose listing ends the paste right under its column heads, with no rule: kube-proxy
        writes none of those chains empty (each holds its jumps, or the masquerade rule first), so the paste was
        cut there. Listed empty with more after it, the chain is shown whole (and empty)."""
        chain = self.chain
        if chain is None or chain.rules or self.headed or not chain.name.startswith(kubeproxy.SERVICE_CHAIN_PREFIXES):
            return
        chain.complete = False
        self.info.repairs.append(f"chain {chain.name} is listed with no rule and the paste ends under its column heads: "
                                 "kube-proxy writes none of a Service's chains empty, so the paste was cut there; "
                                 "its rules are not in the input")

    def _command(self, stripped: str) -> None:
        """A pasted prompt or command line: its -t starts another table's section; the chain it lists
        (``iptables -t nat -L KUBE-SERVICES -n | grep 10.96.0.10``) holds the lines under it that come
        without their header."""
        cmd = _COMMAND.search(stripped)
        if cmd:
            t = re.search(r"(?:-t|--table)[ =]?(\w+)", cmd.group("args"))
            listed = _LISTED_CHAIN.search(cmd.group("args"))
            sec = self.sections[-1]
            if sec.chains or sec.loose:
                sec = _Section(None)
                self.sections.append(sec)
            sec.command_table = t.group(1) if t else "filter"
            sec.command_chain = listed.group(1) if listed else None
            self.chain = None  # (another command's output begins: no line of it is the chain listed above)
        elif "Warning" in stripped or "incompatible" in stripped:
            self.info.notices.append(stripped)

    def _rule_line(self, line: str, line_no: int) -> None:
        words = line.strip().split()
        try:
            repaired: list[str] = []
            rule = _cut_row(words, line) or _rule(words, line, self.verbose if self.chain is not None else None, repaired)
            self.info.repairs.extend(f"line {line_no}: {r}" for r in repaired)
            if rule.partial:
                self.info.repairs.append(f"line {line_no}: a row the author cut ({_preview_row(line)}): its counters "
                                         "and target read; its other matches are not in the input")
        except (ValueError, IndexError) as e:  # IndexError: a line cut short
            e = e if isinstance(e, ValueError) else ValueError("not an iptables -L rule line (cut short)")
            if self.lenient:
                self.info.skipped.append(f"line {line_no}: {e}")
                return
            raise BadDump(self.source, str(e), line_no, hint="pass --lenient to skip lines that cannot be read") from None
        rule.source, rule.line_no = self.source, line_no
        if rule.packets is not None:
            self.counted += 1
            self.exact = self.exact and not any(w[-1:] in _SUFFIX for w in words[:4])
        chain = self.chain
        if chain is None:
            self.headerless += 1
            self.sections[-1].loose.append(rule)
            return
        rule.chain = chain.name
        if rule.numbered or self.numbered:
            rule.numbered = True
        else:
            rule.position = len(chain.rules) + 1
        chain.rules.append(rule)


def _add_section(rules: RuleSet, sec: _Section, info: DumpInfo, headerless: int,
                 listed: dict[tuple[str, str], list[int]]) -> None:
    """One table's listing into the rule set: its chains, its loose lines placed, whether it is complete.

    A chain listed again with other rules is the same chain at a later moment (an author listing it
    before and after a change): the later listing replaces the earlier one, whole, never mixed with it
    (a chain of both would be one kube-proxy never wrote). Listed again with the same rules (``-v``, then
    ``--line-numbers``), the two listings complete each other."""
    name = sec.table()
    tbl = rules.ensure_table(name)
    for cname, c in sec.chains.items():
        for r in c.rules:
            r.table = name
        lines = listed.setdefault((name, cname), [0])  # [0]: 1 once its listings differ, then the header lines
        lines.append(sec.header_lines.get(cname, 0))
        if cname in tbl.chains and len(lines) > 2 and not _alike(tbl.chains[cname], c):
            tbl.chains[cname] = c
            lines[0] = 1
        elif cname in tbl.chains:
            if len(lines) > 2:  # the same rules listed again, later: its counters are the newer ones
                for mine, later in zip(tbl.chains[cname].rules, c.rules, strict=True):
                    if later.packets is not None:
                        mine.packets, mine.bytes = later.packets, later.bytes
            join_rules(tbl.chains[cname], c)
        else:
            tbl.chains[cname] = c
    for r in sec.loose:
        if sec.command_chain:  # the command lists one chain: its lines are that chain's (a grep of it, or cut)
            r.table, r.chain = name, sec.command_chain
            c = tbl.ensure_chain(sec.command_chain)
            c.complete = False
            twin = next((t for t in c.rules if t.line_no < r.line_no and t.twin is None and same_rule(t, r)), None)
            if twin is not None:  # the same rule listed again by a later command: one rule, the later counters
                twin.packets, twin.bytes, twin.twin = r.packets, r.bytes, r
                info.repairs.append(f"line {r.line_no}: the rule of line {twin.line_no} listed again (a later run of a "
                                    "listing command): one rule, its counters the later ones")
                continue
            if not r.numbered:
                r.position = len(c.rules) + 1
            c.rules.append(r)
        else:
            _place(rules, r, sec.command_table, info)
    # every chain of the table listed, each whole, nothing cut: only then is the table complete
    tbl.complete = (not sec.loose and not info.elisions and not info.skipped and not headerless
                    and _BUILTINS.get(name, set()) <= set(sec.chains) and _references_listed(sec))
    if name not in info.listed_tables:
        info.listed_tables.append(name)
    if sec.command_table == name and name not in info.told_tables:
        info.told_tables.append(name)


def _alike(a: Chain, b: Chain) -> bool:
    """Two listings of one chain holding the same rules, in the same order (counters and numbers aside)."""
    return len(a.rules) == len(b.rules) and all(same_rule(x, y) and x.source_addr == y.source_addr
                                                for x, y in zip(a.rules, b.rules, strict=True))


def _note_relisted(listed: dict[tuple[str, str], list[int]], info: DumpInfo) -> None:
    """Say which chains were listed more than once with other rules, and which listing was read."""
    for (_table, chain), lines in listed.items():
        if not lines[0]:
            continue
        at = [n for n in lines[1:] if n > 0]
        where = f" ({numbered('line', at)})" if at else ""
        last = f" (line {at[-1]})" if at else ""
        info.repairs.append(f"chain {chain} is listed {times(len(lines) - 1)} with other rules{where}: "
                            f"several moments pasted together; read from its last listing{last}")


def _whole_above_cut(c: Chain, elisions: list[int]) -> bool:
    """A service chain of an excerpt listed whole: its header, then rows on consecutive lines (numbered from 1 when
    numbered) down to an endpoint's jump without a probability (kube-proxy's last rule there), no cut among them.
    ("Chain KUBE-SVC-… (1 references)", its rows, then the author's "..." under the last: chaseSpace's tutorial.)"""
    if not c.name.startswith(("KUBE-SVC-", "KUBE-SVL-")) or not c.declared or not c.rules:
        return False
    rules = c.rules
    last = rules[-1]
    if not (last.target or "").startswith("KUBE-SEP-") or last.probability is not None \
            or last.matches not in ([], ["comment"]):  # (an affinity check's "recent" comes before the jumps)
        return False
    if rules[0].numbered and rules[0].position != 1:
        return False
    first = rules[0].line_no
    if any(r.line_no != first + i for i, r in enumerate(rules)):
        return False
    return not any(first - 2 <= n <= last.line_no for n in elisions)


def _mark_cut_chains(rules: RuleSet, info: DumpInfo) -> None:
    """An excerpt (``...``) leaves no chain known whole; header-less lines leave the "?" chain unknown. A service chain
    listed down to its masquerade rule and no further was cut too: kube-proxy writes that rule (1.21+) only in a
    chain it fills with what follows it, the endpoints' jumps (or a "has no local endpoints" DROP); and so was an
    external chain (KUBE-EXT, 1.24+), whose masquerade rule is followed by the jump to the service chain (Cluster
    policy) or by the rule routing LOCAL traffic to it (Local). nat KUBE-SERVICES ends with its jump to
    KUBE-NODEPORTS: listed without it last, it was cut."""
    for table, tbl in rules.tables.items():
        for c in tbl.chains.values():
            if c.complete and info.elisions and _whole_above_cut(c, info.elisions):
                info.repairs.append(f"chain {c.name} is listed from its header down to its last endpoint's jump, "
                                    f"which has no probability (line {c.rules[-1].line_no}), with no cut between: "
                                    "kube-proxy writes nothing after that jump, so the chain is read whole")
            elif c.complete and (info.elisions or c.name == UNKNOWN_CHAIN):
                c.complete = None if not info.elisions else False
            elif c.complete and c.name.startswith(("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-")) and c.rules and c.rules[-1].target == "KUBE-MARK-MASQ":
                c.complete = False
                after, lost = (("the jump to the service chain", "where it leads is") if c.name.startswith("KUBE-EXT-") else
                               ("the endpoints' jumps", "its endpoints are"))
                info.repairs.append(f"chain {c.name} is listed down to its masquerade rule and no further (line "
                                    f"{c.rules[-1].line_no}): kube-proxy writes {after} after that rule, so "
                                    f"the listing was cut there; {lost} not in the input")
            elif c.complete and c.name.startswith(("KUBE-SVC-", "KUBE-SVL-")) and c.rules and c.rules[-1].probability is not None \
                    and (c.rules[-1].target or "").startswith("KUBE-SEP-"):
                c.complete = False  # (kube-proxy's last endpoint jump is unconditional: it takes what the others left)
                info.repairs.append(f"chain {c.name} is listed down to an endpoint's jump with a probability (line "
                                    f"{c.rules[-1].line_no}) and no further: kube-proxy ends a service chain with an "
                                    "unconditional jump, so the listing was cut there; its other endpoints are not in the input")
            elif c.complete and c.name.startswith(("KUBE-SVC-", "KUBE-SVL-")) and c.rules and "recent" in c.rules[-1].matches \
                    and (c.rules[-1].target or "").startswith("KUBE-SEP-"):
                c.complete = False  # (ClientIP affinity: the checks of returning clients come first, the endpoints' jumps after)
                info.repairs.append(f"chain {c.name} is listed down to an affinity check (line {c.rules[-1].line_no}) and "
                                    "no further: kube-proxy writes the endpoints' jumps after the checks, so the listing was "
                                    "cut there; its other endpoints are not in the input")
            elif c.complete and c.name.startswith("KUBE-XLB-") and c.rules and not _xlb_end(c.rules[-1]):
                c.complete = False  # (a node without local endpoints: the DROP, never the "route LOCAL traffic" jump)
                info.repairs.append(f"chain {c.name} is listed down to line {c.rules[-1].line_no} and no further: kube-proxy "
                                    "ends a KUBE-XLB chain with its local endpoints' jumps or a 'has no local endpoints' "
                                    "DROP, so the listing was cut there; what follows is not in the input")
            elif c.complete and table == "nat" and c.name == "KUBE-SERVICES" and c.rules and c.rules[-1].target != "KUBE-NODEPORTS":
                c.complete = False  # ("NOTE: this must be the last rule in this chain", kube-proxy's comment says)
                info.repairs.append(f"chain KUBE-SERVICES is listed down to line {c.rules[-1].line_no} and no further: kube-proxy "
                                    "ends it with the jump to KUBE-NODEPORTS, so the listing was cut there; the Services' "
                                    "entry rules after that line are not in the input")


def _xlb_end(rule: Rule) -> bool:
    """A rule kube-proxy (before 1.24) ends a KUBE-XLB chain with: the last local endpoint's jump, which has no
    probability, or the DROP of a node without local endpoints."""
    return rule.target == "KUBE-MARK-DROP" or ((rule.target or "").startswith("KUBE-SEP-") and rule.probability is None
                                               and "recent" not in rule.matches)  # (affinity checks come first)


_ALL_BUILTINS = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}


class _Section:
    """The chains of one table's listing."""

    def __init__(self, command_table: str | None) -> None:
        self.command_table = command_table
        self.chains: dict[str, Chain] = {}
        self.header_lines: dict[str, int] = {}  # chain -> the line of its "Chain" header
        self.loose: list[Rule] = []
        self.command_chain: str | None = None  # the chain the command above the lines lists (its lines without their header)
        self.why = ""

    def table(self) -> str:
        if self.command_table:
            self.why = "from the command line"
            return self.command_table
        names = set(self.chains)
        targets = {r.target for c in self.chains.values() for r in c.rules} | {r.target for r in self.loose}
        builtins = names & _ALL_BUILTINS
        if ("PREROUTING" in builtins or "POSTROUTING" in builtins) and "FORWARD" not in builtins:
            self.why = "it lists PREROUTING/POSTROUTING"
            return "nat"
        if "FORWARD" in builtins and not ({"PREROUTING", "POSTROUTING"} & builtins):
            self.why = "it lists INPUT/FORWARD/OUTPUT"
            return "filter"
        if names & _FILTER_ONLY_CHAINS and not targets & _NAT_ONLY_TARGETS:
            self.why = "its chains are filter-table chains"
            return "filter"
        if targets & _NAT_ONLY_TARGETS or any(t and t.startswith(("KUBE-SVC-", "KUBE-SEP-", "KUBE-EXT-", "KUBE-XLB-")) for t in targets):
            self.why = "its rules DNAT, masquerade or jump to service chains"
            return "nat"
        if targets & _FILTER_TARGETS:
            self.why = "its rules only REJECT, DROP or ACCEPT"
            return "filter"
        self.why = "nothing says otherwise"
        return "nat"


def _new_table(sec: _Section) -> bool:
    """A builtin chain header after user chains: another table's listing begins."""
    return any(n not in _ALL_BUILTINS for n in sec.chains)


def _references_listed(sec: _Section) -> bool:
    """Every chain a listed rule jumps to is listed too (else the listing was cut to some chains)."""
    for c in sec.chains.values():
        for r in c.rules:
            if r.target and r.target.startswith("KUBE-") and r.target not in sec.chains:
                return False
    return True


def _place(rules: RuleSet, rule: Rule, command_table: str | None, info: DumpInfo) -> None:
    """Put a header-less ``-L`` line in the chain kube-proxy writes such a rule to, when the rule itself says.

    The evidence is kube-proxy's own naming: a jump to KUBE-NODEPORTS or a ``SPN cluster IP``
    jump to one of the port's chains is in KUBE-SERVICES; a ``SPN`` jump with a port to its chain
    is in KUBE-NODEPORTS; a DNAT whose comment and target hash to a KUBE-SEP name is in that
    chain; "has no endpoints" REJECTs are in the filter table. Anything else stays in the "?"
    chain: it is shown, never followed.
    """
    target = rule.target or ""
    comment = rule.comment or ""
    named = comments.read(comment)
    if named is None and comment:
        fixed = comments.unwrap(comment, (target,), rule.protocol, rule.to_destination)
        if fixed is not None:
            info.repairs.append(f"line {rule.line_no}: comment \"{comment}\" read as \"{fixed}\" (wrapped when copied; "
                                f"the chain name {target} is the hash of the repaired name)")
            rule.comment = fixed
            rule.options["--comment"] = [fixed]
            named = comments.read(fixed)
    table = command_table or ("filter" if target in _FILTER_TARGETS else "nat")
    chain = UNKNOWN_CHAIN
    if target in ("KUBE-NODEPORTS", "KUBE-NODE-PORT"):
        chain = "KUBE-SERVICES"
    elif named is not None:
        # the template places the rule; whether the name really hashes to the chain is infer.py's concern
        per_service = target.startswith(("KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-XLB-"))
        if named.kind in ("cluster IP", "external IP", "loadbalancer IP") and per_service:
            if rule.source_addr and named.kind == "loadbalancer IP":
                chain = "KUBE-FW-" + target.split("-", 2)[2]
            elif not (named.kind == "cluster IP" and target.startswith("KUBE-EXT-")):
                chain = "KUBE-SERVICES"
        elif named.kind == "name" and rule.dport and target.startswith(("KUBE-SVC-", "KUBE-EXT-", "KUBE-XLB-")):
            chain = "KUBE-NODEPORTS"
        elif named.kind == "name" and target == "DNAT":
            sep = _sep_chain(named.spn, rule)
            if sep:
                chain = sep
        elif named.kind == "balancing" and target.startswith("KUBE-SEP-"):
            proto = comments.endpoint_chain_of(named.spn, target, rule.protocol, None)
            chain = kubeproxy.service_chains(named.spn, proto or "tcp")["xlb"] if proto else UNKNOWN_CHAIN
        elif named.kind in ("no endpoints", "no local endpoints") and target in ("REJECT", "DROP"):
            # a node port's rule matches addrtype LOCAL (KUBE-EXTERNAL-SERVICES); an address's is in KUBE-SERVICES (a
            # cluster IP) or KUBE-EXTERNAL-SERVICES (an external or load-balancer IP), which a line without its chain's
            # header does not tell apart: it stays in "?", its address of a kind not in the input
            table = "filter"
            chain = UNKNOWN_CHAIN if rule.dest_addr and "addrtype" not in rule.matches else "KUBE-EXTERNAL-SERVICES"
    rule.table = table
    rule.chain = chain
    c = rules.ensure_table(table).ensure_chain(chain)
    if not rule.numbered:
        rule.position = len(c.rules) + 1
    c.rules.append(rule)


def _sep_chain(spn: str, rule: Rule) -> str | None:
    host, port = split_hostport(rule.to_destination)
    if not host or port is None:
        return None
    for p in comments.protocols(rule.protocol):
        return kubeproxy.endpoint_chain(spn, p, host, port)
    return None


def _count(word: str) -> int:
    """A counter as -L prints it (``12``, ``3K``, ``1.2M``); ValueError for anything else."""
    if len(word) > 21:
        raise ValueError(f"not a counter: {word[:24]!r}…")
    if word[-1:] in _SUFFIX:
        value = float(word[:-1])
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"not a counter: {word!r}")
        return int(value * _SUFFIX[word[-1]])
    return counter(word)


def _rule(words: list[str], line: str, verbose: bool | None, repaired: list[str] | None = None) -> Rule:
    cols = _columns(words)
    if cols is None:
        raise ValueError("not an iptables -L rule line")
    k, shape_verbose = cols
    verbose = shape_verbose if verbose is None else verbose
    prefix = words[:k - 1]
    packets = nbytes = None
    number: int | None = None
    counts = [w for w in prefix if _COUNT.match(w)]
    # --line-numbers puts a rule number first; with -v two counters follow it; then the target (if any)
    if verbose:
        if len(counts) >= 3 and prefix[0].isdigit():
            number, prefix = int(prefix[0]), prefix[1:]
        if len(prefix) < 2 or not (_is_count(prefix[0]) and _is_count(prefix[1])):
            raise ValueError("expected packet and byte counters")
        packets, nbytes = _count(prefix[0]), _count(prefix[1])
        prefix = prefix[2:]
    elif prefix and prefix[0].isdigit():  # a target is never a number
        number, prefix = int(prefix[0]), prefix[1:]
    if len(prefix) > 1:
        raise ValueError("not an iptables -L rule line")
    target = prefix[0] if prefix else None
    proto = words[k - 1]
    after = words[k + 1:]
    verbose = verbose and _interfaces_shown(after, repaired)
    if verbose:
        in_if, out_if, src, dst, extra_words = after[0], after[1], after[2], after[3], after[4:]
    else:
        in_if = out_if = "*"
        src, dst, extra_words = after[0], after[1], after[2:]
    rule = Rule(table="", chain="", position=number or 0, source="", line_no=0, raw=line.rstrip(), packets=packets, bytes=nbytes)
    rule.numbered = number is not None
    rule.target = target
    bare = proto.lstrip("!")
    bare = _PROTO_NUM.get(bare, bare)
    if bare not in ("all", "0"):
        rule.protocol = ("!" if proto.startswith("!") else "") + bare
    rule.source_addr = None if src in ("0.0.0.0/0", "::/0", "anywhere") else src
    rule.dest_addr = None if dst in ("0.0.0.0/0", "::/0", "anywhere") else dst
    # (without -n, -L -v prints "any" for no interface, as it prints "anywhere" for no address)
    rule.in_iface = None if in_if in ("*", "any") else in_if
    rule.out_iface = None if out_if in ("*", "any") else out_if
    # the comment is cut from the raw line so that its own spacing survives; the match
    # descriptions (dpt:, to:, statistic …) are read from what is left
    extra = " ".join(extra_words)
    cm = _COMMENT.search(line)
    if cm:
        # `| column -t` spaces a comment's words out ("/*  default/webapp   cluster  IP   */"): kube-proxy writes
        # none with two spaces in a row, so such runs are the columns'
        said = " ".join(cm.group(1).split()) if "  " in cm.group(1) else cm.group(1)
        rule.comment = said
        rule.matches.append("comment")
        rule.options["--comment"] = [said]
        extra = _COMMENT.sub(" ", extra)
    _extras(rule, extra)
    return rule


# the match descriptions -L prints, each looked for only when its literal is in the line (10^5 rule lines of a
# big listing: seven regex searches each, through re's cache, were a fifth of the reading)
_DPORT = re.compile(r"\b(tcp|udp|sctp) (?:spt:\S+ )?dpts?:(!?\S+)")
_PROBABILITY = re.compile(r"statistic mode random probability ([0-9.]+)")
_TO = re.compile(r"\bto:(\S+)")
_UNSUPPORTED = re.compile(r"(\S+) \[unsupported revision\]")
_RECENT = re.compile(r"recent: (CHECK|SET|UPDATE)(?: seconds: (\d+))?(?: reap)? name: (\S+)")
_ADDRTYPE = re.compile(r"ADDRTYPE match (src|dst)-type (\S+)")
_MATCH_SET = re.compile(r"match-set (!\s*)?(\S+) (\S+)")
_MARK_MATCH = re.compile(r"mark match (! )?(\S+)")


def _cut_row(words: list[str], line: str) -> Rule | None:
    """A row the author cut: counters and a kube-proxy chain as its target, then nothing or a cut mark and what is
    left of the row ("10   600 KUBE-SEP-JZF7FF4KHPDVC7PP  … probability 0.50000000000", "10   600 KUBE-SEP-A6QIQ…"
    alone). Its counters, target and what the words after the mark say (a probability, a comment) are read; the
    rule is partial: its other matches are not in the input. None for any other row."""
    cut = next((i for i, w in enumerate(words) if is_elision_word(w)), len(words))
    head = words[:cut]
    if len(head) != 3 or not (_is_count(head[0]) and _is_count(head[1])) or not head[2].startswith("KUBE-") \
            or (cut == len(words) and len(words) != 3):
        return None
    rule = Rule(table="", chain="", position=0, source="", line_no=0, raw=line.rstrip(), packets=_count(head[0]),
                bytes=_count(head[1]))
    rule.target, rule.partial = head[2], True
    rest = " ".join(words[cut + 1:])
    if (p := _CUT_PROBABILITY.search(rest)) is not None:
        rule.probability = float(p.group(1))
        rule.matches.append("statistic")
        rule.options.update({"--mode": ["random"], "--probability": [p.group(1)]})
    if (cm := _COMMENT.search(line)) is not None:
        rule.comment = cm.group(1)
        rule.matches.append("comment")
        rule.options["--comment"] = [cm.group(1)]
    return rule


_CUT_PROBABILITY = re.compile(r"(?:^|\s)probability ([0-9.]+)(?:\s|$)")


def _preview_row(line: str) -> str:
    row = " ".join(line.split())
    return row if len(row) <= 60 else row[:59] + "…"


def _interfaces_shown(after: list[str], repaired: list[str] | None) -> bool:
    """A -v row's in and out columns are there, unless the word after its opt column is an address: no interface is
    named like one ("0 0 KUBE-SVC-X tcp -- 0.0.0.0/0 10.0.0.5 tcp dpt:80": the author took them out)."""
    if repaired is None or not after or not _address_like(after[0]):
        return True
    repaired.append("its in and out columns are not in the row (taken out when pasted): read as source and destination")
    return False


def _address_like(word: str) -> bool:
    """A source or destination column's word (``0.0.0.0/0``, ``10.0.0.5``, ``anywhere``), which no interface is named."""
    bare = word.lstrip("!")
    return "/" in bare or bare == "anywhere" or ip_family(bare) is not None


def _extras(rule: Rule, extra: str) -> None:
    m = _DPORT.search(extra) if "dpt" in extra else None
    if m:
        rule.matches.append(m.group(1))
        rule.dport = m.group(2)
        rule.options["--dport"] = [m.group(2)]
    m = _PROBABILITY.search(extra) if "statistic" in extra else None
    if m:
        rule.matches.append("statistic")
        rule.probability = float(m.group(1))
        rule.options["--probability"] = [m.group(1)]
    m = _TO.search(extra) if "to:" in extra else None
    if m:
        rule.target_options["--to-destination"] = [m.group(1)]
    m = _UNSUPPORTED.search(extra) if UNSUPPORTED in extra else None
    if m:
        # an iptables older than the one that wrote the rule prints "DNAT [unsupported revision]" in place of the
        # target's (or a match's) description, as its iptables-save prints "-j DNAT [unsupported revision]": not in the input
        (rule.target_options if m.group(1) == rule.target else rule.options)[UNSUPPORTED] = []
    m = _RECENT.search(extra) if "recent: " in extra else None
    if m:
        rule.matches.append("recent")
        rule.options["--rcheck" if m.group(1) == "CHECK" else "--set"] = []
        if m.group(2):
            rule.options["--seconds"] = [m.group(2)]
        rule.options["--name"] = [m.group(3)]
    m = _ADDRTYPE.search(extra) if "ADDRTYPE" in extra else None
    if m:
        rule.matches.append("addrtype")
        rule.options[f"--{m.group(1)}-type"] = [m.group(2)]
    m = _MATCH_SET.search(extra) if "match-set " in extra else None
    if m:
        rule.matches.append("set")
        rule.options["--match-set"] = [("!" if m.group(1) else "") + m.group(2), m.group(3)]
    m = _MARK_MATCH.search(extra) if "mark match " in extra else None
    if m:
        rule.matches.append("mark")
        rule.options["--mark"] = [("!" if m.group(1) else "") + m.group(2)]
    # conntrack's "ctstate INVALID", "! ctstate RELATED,ESTABLISHED,DNAT"; state's "state RELATED,ESTABLISHED"
    m = _CTSTATE.search(extra) if "state " in extra else None
    if m:
        rule.matches.append("conntrack" if m.group(2) else "state")
        rule.options["--ctstate" if m.group(2) else "--state"] = [("!" if m.group(1) else "") + m.group(3)]


_CTSTATE = re.compile(r"(?<!\S)(! )?(ct)?state ([A-Z]+(?:,[A-Z]+)*)(?!\S)")


def _is_count(word: str) -> bool:
    return _COUNT.match(word) is not None

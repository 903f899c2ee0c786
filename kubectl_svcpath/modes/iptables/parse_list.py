"""Parse ``iptables [-t nat] -L -n [-v] [-x] [--line-numbers]`` listings into the rule model.

This is what people paste most. It carries less than iptables-save: no table name, no
``--comment`` quoting (comments appear as ``/* … */``), ports as ``dpt:80``, DNAT as
``to:IP:PORT``, and without ``-v`` no counters; without ``-x`` counters are rounded (``12K``).
"""

from __future__ import annotations

import re

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.parse.tokens import split_lines
from kubectl_svcpath.modes.iptables.model import DumpInfo, Rule, RuleSet

_CHAIN = re.compile(r"^Chain (\S+) \((?:policy (\S+)(?: (\S+) packets, (\S+) bytes)?|(\d+) references?)\)")
_COMMENT = re.compile(r"/\* (.*) \*/")
_OPT_TOKENS = {"--", "-f", "!f"}
_SUFFIX = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_PROTO_NUM = {"0": "all", "6": "tcp", "17": "udp", "132": "sctp", "1": "icmp", "58": "ipv6-icmp"}


def looks_like_iptables_list(text: str) -> bool:
    return bool(re.search(r"^Chain \S+ \((?:policy|\d+ references)", text[:65536], re.M))


def parse_iptables_list(text: str, source: str, lenient: bool = False, table: str = "nat") -> RuleSet:
    rules = RuleSet()
    info = DumpInfo(source=source, form="iptables-list")
    tbl = rules.ensure_table(table)
    chain = None
    verbose = False
    exact = True
    counted = 0
    for line_no, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        m = _CHAIN.match(line)
        if m:
            chain = tbl.ensure_chain(m.group(1))
            chain.declared = True
            chain.policy = m.group(2)
            if m.group(3) is not None:
                chain.packets, chain.bytes = _count(m.group(3)), _count(m.group(4))
            continue
        words = line.split()
        if words and words[0] in ("num", "pkts", "target"):
            verbose = "pkts" in words
            continue
        if chain is None:
            if lenient:
                info.skipped.append(f"line {line_no}: text before the first 'Chain' header")
                continue
            raise BadDump(source, "rule line before any 'Chain …' header", line_no)
        try:
            rule = _rule(words, line, verbose)
        except ValueError as e:
            if lenient:
                info.skipped.append(f"line {line_no}: {e}")
                continue
            raise BadDump(source, str(e), line_no, hint="pass --lenient to skip lines that cannot be read") from None
        rule.table, rule.chain, rule.source, rule.line_no = table, chain.name, source, line_no
        rule.position = len(chain.rules) + 1
        if rule.packets is not None:
            counted += 1
            exact = exact and not any(w[-1:] in _SUFFIX for w in words[:3])
        chain.rules.append(rule)
    if not tbl.chains:
        raise BadDump(source, "no 'Chain …' sections found")
    info.has_counters = counted > 0
    info.notices.append("listing: table assumed to be " + table)
    if counted and not exact:
        info.notices.append("counters rounded (K/M/G): list with -x for exact numbers")
    rules.dumps.append(info)
    return rules


def _count(word: str) -> int:
    if word[-1:] in _SUFFIX:
        return int(float(word[:-1]) * _SUFFIX[word[-1]])
    return int(word)


def _rule(words: list[str], line: str, verbose: bool) -> Rule:
    rest = list(words)
    packets = nbytes = None
    # --line-numbers puts a rule number first; with -v two counters follow it
    if verbose:
        if len(rest) >= 3 and rest[0].isdigit() and _is_count(rest[1]) and _is_count(rest[2]) and _opt_index(rest[3:]) is not None:
            rest = rest[1:]
        if len(rest) < 2 or not (_is_count(rest[0]) and _is_count(rest[1])):
            raise ValueError("expected packet and byte counters")
        packets, nbytes = _count(rest[0]), _count(rest[1])
        rest = rest[2:]
    elif rest and rest[0].isdigit() and _opt_index(rest[1:]) is not None:
        rest = rest[1:]
    k = _opt_index(rest)
    if k is None:
        raise ValueError("not an iptables -L rule line")
    target = rest[0] if k == 2 else None
    proto = rest[k - 1]
    after = rest[k + 1:]
    if verbose:
        if len(after) < 4:
            raise ValueError("rule line is missing interface or address columns")
        in_if, out_if, src, dst, extra_words = after[0], after[1], after[2], after[3], after[4:]
    else:
        if len(after) < 2:
            raise ValueError("rule line is missing address columns")
        in_if = out_if = "*"
        src, dst, extra_words = after[0], after[1], after[2:]
    rule = Rule(table="", chain="", position=0, source="", line_no=0, raw=line.rstrip(), packets=packets, bytes=nbytes)
    rule.target = target
    proto = _PROTO_NUM.get(proto.lstrip("!"), proto.lstrip("!")) if proto.lstrip("!") else proto
    if proto not in ("all", "0"):
        rule.protocol = ("!" if rest[k - 1].startswith("!") else "") + proto
    rule.source_addr = None if src in ("0.0.0.0/0", "::/0", "anywhere") else src
    rule.dest_addr = None if dst in ("0.0.0.0/0", "::/0", "anywhere") else dst
    rule.in_iface = None if in_if == "*" else in_if
    rule.out_iface = None if out_if == "*" else out_if
    # the comment is cut from the raw line so that its own spacing survives; the match
    # descriptions (dpt:, to:, statistic …) are read from what is left
    extra = " ".join(extra_words)
    cm = _COMMENT.search(line)
    if cm:
        rule.comment = cm.group(1)
        rule.matches.append("comment")
        rule.options["--comment"] = [cm.group(1)]
        extra = _COMMENT.sub(" ", extra)
    _extras(rule, extra)
    return rule


def _extras(rule: Rule, extra: str) -> None:
    m = re.search(r"\b(tcp|udp|sctp) (?:spt:\S+ )?dpts?:(!?\S+)", extra)
    if m:
        rule.matches.append(m.group(1))
        rule.dport = m.group(2)
        rule.options["--dport"] = [m.group(2)]
    m = re.search(r"statistic mode random probability ([0-9.]+)", extra)
    if m:
        rule.matches.append("statistic")
        rule.probability = float(m.group(1))
        rule.options["--probability"] = [m.group(1)]
    m = re.search(r"\bto:(\S+)", extra)
    if m:
        rule.target_options["--to-destination"] = [m.group(1)]
    m = re.search(r"recent: (CHECK|SET|UPDATE)(?: seconds: (\d+))?(?: reap)? name: (\S+)", extra)
    if m:
        rule.matches.append("recent")
        rule.options["--rcheck" if m.group(1) == "CHECK" else "--set"] = []
        if m.group(2):
            rule.options["--seconds"] = [m.group(2)]
        rule.options["--name"] = [m.group(3)]
    m = re.search(r"ADDRTYPE match (src|dst)-type (\S+)", extra)
    if m:
        rule.matches.append("addrtype")
        rule.options[f"--{m.group(1)}-type"] = [m.group(2)]
    m = re.search(r"mark match (! )?(\S+)", extra)
    if m:
        rule.matches.append("mark")
        rule.options["--mark"] = [("!" if m.group(1) else "") + m.group(2)]


def _is_count(word: str) -> bool:
    return bool(re.fullmatch(r"\d+[KMGT]?", word))


def _opt_index(words: list[str]) -> int | None:
    """Index of the 'opt' column ('--'): 2 when a target is printed, 1 when the rule has none."""
    for k in (2, 1):
        if len(words) > k and words[k] in _OPT_TOKENS:
            return k
    return None

"""iptables-nft's tables as nft prints them, read as iptables rules.

On an iptables-nft node (iptables mode, nf_tables backend) people often paste ``nft list table
ip nat`` (or ``nft -a list …``, ``nft -j list …``) instead of ``iptables-save``: the same
KUBE-SERVICES / KUBE-SVC-… / KUBE-SEP-… chains, in nft's words::

    meta l4proto tcp ip daddr 10.96.0.1 tcp dport 443 counter packets 0 bytes 0 jump KUBE-SVC-NPX46M4PTMTKRN6Y

The nftables mode parses every nft form into its model (``NftRuleset``); this module turns the
tables iptables-nft wrote (``ip nat``, ``ip filter``, …, with kube-proxy's upper-case chains)
into the iptables model, so that iptables mode follows them like an iptables-save dump. Each
rule keeps nft's line as its evidence. What nft cannot show (an ``xt match "statistic"``'s
probability, an ``xt match "recent"``'s timeout) stays unknown: such rules are marked partial,
and their table is never called complete.
"""

from __future__ import annotations

from typing import Any

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.iptables.model import Chain, DumpInfo, Rule, RuleSet
from kubectl_svcpath.modes.nftables.model import Match, NftRule, NftRuleset, NftTable, to_int
from kubectl_svcpath.wording import listed

XTABLES_TABLES = ("nat", "filter", "mangle", "raw")
_FAMILIES = ("ip", "ip6")
# chains only kube-proxy's iptables mode writes: a table holding one is kube-proxy's, as iptables-nft wrote it
_KUBE_PREFIXES = ("KUBE-SERVICES", "KUBE-SVC-", "KUBE-SEP-", "KUBE-NODEPORTS", "KUBE-EXT-", "KUBE-XLB-", "KUBE-FW-",
                  "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-PROXY-FIREWALL")
_VERDICTS = {"accept": "ACCEPT", "drop": "DROP", "return": "RETURN", "continue": None}
_RANDOM_RANGE = 2**31  # iptables-nft writes "statistic --probability p" as "meta random & 0x7fffffff < p * 2^31"


def xtables_tables(nft: NftRuleset) -> list[NftTable]:
    """The tables of ``nft`` that iptables-nft wrote for kube-proxy's iptables mode."""
    return [t for (family, name), t in nft.tables.items()
            if family in _FAMILIES and name in XTABLES_TABLES and any(c.startswith(_KUBE_PREFIXES) for c in t.chains)]


def _one_family(tables: list[NftTable]) -> tuple[list[NftTable], list[NftTable]]:
    """The tables of one address family, and those of the other set aside. kube-proxy's IPv4 and IPv6 proxiers write
    the same chain names (KUBE-SERVICES, KUBE-SVC-<hash of the port's name>) into ip and ip6 tables: one RuleSet of
    both would join the chains. IPv4 when both families hold kube-proxy's Service rules; else the one that does."""
    if len({t.family for t in tables}) < 2:
        return tables, []
    serving = [f for f in _FAMILIES if any(t.family == f and _serves(t) for t in tables)]
    keep = serving[0] if serving else _FAMILIES[0]
    aside = [t for t in tables if t.family != keep and (_serves(t) or len(serving) != 1)]
    return [t for t in tables if t.family == keep], aside


def _serves(table: NftTable) -> bool:
    """The table holds kube-proxy's Service rules: a service or endpoint chain, or a rule in KUBE-SERVICES."""
    services = table.chains.get("KUBE-SERVICES")
    return (services is not None and bool(services.rules)) or any(c.startswith(("KUBE-SVC-", "KUBE-SEP-")) for c in table.chains)


def rules_from_nft(nft: NftRuleset) -> RuleSet | None:
    """kube-proxy's iptables rules as nft listed them; None when ``nft`` holds none."""
    tables = xtables_tables(nft)
    if not tables:
        return None
    tables, aside = _one_family(tables)
    rules = RuleSet()
    infos: dict[str, DumpInfo] = {}
    for dump in nft.dumps:
        infos[dump.source] = DumpInfo(source=dump.source, form=dump.form, backend="nf_tables", has_counters=dump.has_counters,
                                      notices=[n for n in dump.notices if n.startswith("#")],
                                      repairs=[n for n in dump.notices if not n.startswith("#")])
    opaque, listed_whole = False, True
    cut = any(d.excerpt for d in nft.dumps)  # (as an iptables -L excerpt: a chain block may have lost rules at a "...")
    for table in tables:
        target = rules.ensure_table(table.name)
        for nchain in table.chains.values():
            chain = target.chains.get(nchain.name)
            if chain is None:
                chain = target.chains[nchain.name] = Chain(nchain.name)
            chain.policy = nchain.policy.upper() if nchain.policy and nchain.hook else chain.policy
            chain.complete = not cut  # nft prints every rule of a chain it lists
            for nrule in nchain.rules:
                rule = _read_rule(table.name, nrule)
                if rule.partial:  # e.g. xt match "recent": the chain may hold an affinity rule nft cannot show
                    opaque = True
                    chain.complete = False
                chain.rules.append(rule)
                if rule.source not in infos:
                    infos[rule.source] = DumpInfo(source=rule.source, form="nft-text", backend="nf_tables")
                if rule.packets is not None:
                    infos[rule.source].has_counters = True
        # the whole table: its base chains and kube-proxy's dispatch chain listed, nothing cut or hidden
        whole = (not cut and any(c.hook for c in table.chains.values()) and "KUBE-SERVICES" in table.chains
                 and all(d.form != "nft-chains" for d in nft.dumps))
        listed_whole = listed_whole and whole
        target.complete = whole and not opaque
    for info in infos.values():
        if info.form == "nft-text" and not listed_whole:
            info.form = "nft-list-chain"  # chains listed one by one (nft list chain …): a part of their table
    first = next(iter(infos.values()))  # said once, not once per file
    first.repairs.append("read from nft's listing of the tables iptables-nft wrote (iptables mode, nf_tables backend): "
                         "iptables-save -c shows the same rules in iptables' words")
    if aside:
        first.repairs.append(f"{listed([f'table {t.ref}' for t in aside])} (the IPv6 family) not read with the IPv4 tables: "
                             "kube-proxy writes the same chain names in both families, each with its own rules and "
                             "endpoints, which read together would mix; for the IPv6 family pass its tables alone "
                             "(nft list table ip6 nat)")
    if opaque:
        first.repairs.append("some rules carry matches or targets nft prints without their options (xt match "
                             "\"statistic\", \"recent\", xt target \"DNAT\", …): their probabilities, any session "
                             "affinity and the addresses they DNAT to are not in the input"
                             + (", so nothing is said to be absent" if listed_whole else ""))
    rules.dumps.extend(infos.values())
    return rules


def _read_rule(table: str, nrule: NftRule) -> Rule:
    """_rule, or one BadDump line: `nft -j` statements are read here first, in whatever shape they came."""
    try:
        return _rule(table, nrule)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
        loc = nrule.loc
        where = (loc.pointer if loc and loc.pointer else None) or f"chain {nrule.chain} rule {nrule.position}"
        raise BadDump(loc.source if loc else "nft", f"{where}: a rule not shaped like nft's output ({type(e).__name__}: {str(e)[:80]})",
                      loc.line_no if loc else None, hint="pass the complete output of `nft -j list table …`") from None


def _rule(table: str, nrule: NftRule) -> Rule:
    loc = nrule.loc
    counter = nrule.counter
    rule = Rule(table=table, chain=nrule.chain, position=nrule.position, source=loc.source if loc else "nft",
                line_no=loc.line_no or 0 if loc else 0, raw=nrule.raw.strip(),
                packets=counter[0] if counter else None, bytes=counter[1] if counter else None)
    if nrule.comment is not None:
        rule.comment = nrule.comment
        _match(rule, "comment", "--comment", nrule.comment)
    for m in nrule.matches():
        _apply_match(rule, m)
    for expr in nrule.exprs:
        _apply_statement(rule, expr)
    return rule


def _match(rule: Rule, module: str, option: str, *values: str) -> None:
    if module not in rule.matches:
        rule.matches.append(module)
    rule.options[option] = list(values)


def _neg(m: Match) -> str:
    return "!" if m.op == "!=" else ""


def _apply_match(rule: Rule, m: Match) -> None:
    right = m.right
    if m.left in ("meta l4proto", "ip protocol", "ip6 nexthdr"):
        rule.protocol = _neg(m) + str(right)
    elif m.left in ("ip daddr", "ip6 daddr"):
        rule.dest_addr = _neg(m) + str(right)
    elif m.left in ("ip saddr", "ip6 saddr"):
        rule.source_addr = _neg(m) + str(right)
    elif m.left == "meta iifname":
        rule.in_iface = _neg(m) + str(right)
    elif m.left == "meta oifname":
        rule.out_iface = _neg(m) + str(right)
    elif m.left.endswith(" dport") and m.left.split()[0] in ("tcp", "udp", "sctp", "th"):
        port = str(right).replace("-", ":")
        rule.dport = _neg(m) + port
        proto = m.left.split()[0]
        if proto != "th":
            rule.protocol = rule.protocol or proto
            if proto not in rule.matches:
                rule.matches.append(proto)
        rule.options["--dport"] = [rule.dport]
    elif m.left in ("fib daddr type", "fib saddr type"):
        option = "--dst-type" if m.left.startswith("fib daddr") else "--src-type"
        _match(rule, "addrtype", option, _neg(m) + str(right).upper())
    elif m.left == "ct state":
        _match(rule, "conntrack", "--ctstate", _neg(m) + ",".join(_words(right)).upper())
    elif m.left == "ct status":
        _match(rule, "conntrack", "--ctstatus", _neg(m) + ",".join(_words(right)).upper())
    elif m.left == "meta mark":
        value = to_int(right)
        mark = f"{value:#x}/{m.mask:#x}" if value is not None and m.mask is not None else str(right)
        _match(rule, "mark", "--mark", _neg(m) + mark)
    elif m.left == "meta random" and m.op == "<" and m.mask == _RANDOM_RANGE - 1 and isinstance(right, int):
        rule.probability = min(1.0, right / _RANDOM_RANGE)
        _match(rule, "statistic", "--mode", "random")
        rule.options["--probability"] = [f"{rule.probability:.11f}"]
    else:
        rule.partial = True  # a match iptables mode does not model: the rule matches more than it shows


def _apply_statement(rule: Rule, expr: dict[str, Any]) -> None:
    if "jump" in expr or "goto" in expr:
        kind = "jump" if "jump" in expr else "goto"
        target = expr[kind]["target"]
        if not isinstance(target, str):  # (a list or an object would reach the correlator as a chain name)
            raise TypeError(f"a {kind} target that is not a chain name: {type(target).__name__}")
        rule.target, rule.goto = target, kind == "goto"
    elif any(k in expr for k in _VERDICTS):
        rule.target = next(_VERDICTS[k] for k in _VERDICTS if k in expr)
    elif "reject" in expr:
        rule.target = "REJECT"
        body = expr["reject"] or {}
        if isinstance(body, dict) and body.get("expr"):
            rule.target_options["--reject-with"] = [f"{body.get('type', 'icmp')}-{body['expr']}"]
    elif "dnat" in expr or "snat" in expr:
        kind = "dnat" if "dnat" in expr else "snat"
        body = expr[kind] or {}
        addr, port = body.get("addr"), body.get("port")
        rule.target = kind.upper()
        if addr is not None:
            host = f"[{addr}]" if ":" in str(addr) and port is not None else str(addr)
            option = "--to-destination" if kind == "dnat" else "--to-source"
            rule.target_options[option] = [f"{host}:{port}" if port is not None else host]
    elif "masquerade" in expr:
        rule.target = "MASQUERADE"
    elif "mangle" in expr:
        _mark_target(rule, expr["mangle"])
    elif "xt" in expr and (expr["xt"] or {}).get("match-set"):  # "# match-set NAME FLAGS": -m set --match-set NAME FLAGS
        xt = expr["xt"]
        if "set" not in rule.matches:
            rule.matches.append("set")
        rule.options["--match-set"] = [str(w) for w in xt["match-set"]]
    elif "xt" in expr:
        xt = expr["xt"] or {}
        name = str(xt.get("name", "?"))
        if xt.get("type") == "target":
            rule.target = name
        elif name not in rule.matches:
            rule.matches.append(name)
        if name != "comment" and xt.get("type") != "target":
            rule.partial = True  # nft prints the extension's name only, not its options
        # (an xt target's options - DNAT's destination - are not in the input; its rule's matches all are)
    elif "unknown" in expr:
        words = str(expr["unknown"])
        if rule.target == "MASQUERADE" and words in ("random-fully", "fully-random"):
            rule.target_options["--random-fully"] = []
        else:
            rule.partial = True


def _mark_target(rule: Rule, body: Any) -> None:
    """``meta mark set mark or 0x4000`` -> ``-j MARK --or-mark 0x4000`` (KUBE-MARK-MASQ)."""
    if not isinstance(body, dict) or body.get("key") != {"meta": {"key": "mark"}}:
        rule.partial = True
        return
    value = body.get("value")
    rule.target = "MARK"
    if isinstance(value, dict) and len(value) == 1:
        op, operands = next(iter(value.items()))
        word = {"|": "--or-mark", "^": "--xor-mark", "&": "--and-mark"}.get(op)
        number = operands[1] if isinstance(operands, list) and len(operands) == 2 else None
        if word and to_int(number) is not None:
            rule.target_options[word] = [f"{to_int(number):#x}"]
            return
    if to_int(value) is not None:
        rule.target_options["--set-mark"] = [f"{to_int(value):#x}"]
        return
    rule.partial = True


def _words(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]

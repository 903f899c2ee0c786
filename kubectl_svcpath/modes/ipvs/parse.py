"""Read ipvsadm listings into an IpvsTable.

Forms (ipvsadm 1.2x/1.3x, ``print_title``/``print_service_entry`` in ipvsadm.c)::

    IP Virtual Server version 1.2.1 (size=4096)
    Prot LocalAddress:Port Scheduler Flags
      -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
    TCP  10.0.0.1:443 rr persistent 10800
      -> 192.168.0.1:6443             Masq    1      1          0

    Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes      (--stats)
      -> RemoteAddress:Port
    TCP  10.0.0.1:443                        3       20       15     1200     3000
      -> 192.168.0.1:6443                    3       20       15     1200     3000

``--rate`` has CPS/InPPS/OutPPS/InBPS/OutBPS; without ``--exact`` numbers of 100 million
and more are printed as ``123K``/``45M``/``6G``/``1T`` (rounded down). ``ipvsadm -Sn`` prints
rules (``-A -t VIP:PORT -s rr -p 10800``, ``-a -t VIP:PORT -r RIP:PORT -m -w 1``). Several
listings pasted into one file merge by virtual server.

``cat /proc/net/ip_vs`` (the kernel's own listing, ``ip_vs_info_seq_show`` in ip_vs_ctl.c: what a
kube-proxy image without ipvsadm still shows) has -Ln's title, heads and columns, with addresses and
ports in hex (``TCP  0A600001:01BB rr``, IPv6 ``[%pI6]:%04X``, ``FWM  %08X``) and a persistent
service's netmask after its timeout (``persistent 10800 FFFFFFFF``); it has no counters.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.ipvs.detect import _PROTOS, _RULE_PROTO, _VERSION, CONN_ENTRY, CONN_HEADS, HEADS, TITLE
from kubectl_svcpath.modes.ipvs.detect import CUT_WIDTH, is_cut_name
from kubectl_svcpath.modes.ipvs.detect import is_listing_line as _is_listing_line
from kubectl_svcpath.modes.ipvs.model import CANONICAL_V4, IpvsDumpInfo, IpvsRate, IpvsStats, IpvsTable, VirtualServer, normalize_ip
from kubectl_svcpath.wording import agrees, counted, listed, numbered

_SUFFIX = {"K": 1000, "M": 1000_000, "G": 1000_000_000, "T": 1000_000_000_000}
_FLAG_FORMS = ("list", "persistent-conn", "thresholds")
_FORWARDS = ("Masq", "Route", "Tunnel", "Local", "FullNat")  # the Forward column as ipvsadm prints it
_FORWARD = {"-m": "Masq", "--masquerading": "Masq", "-g": "Route", "--gatewaying": "Route",
            "-i": "Tunnel", "--ipip": "Tunnel"}


def _number(word: str, source: str, line_no: int) -> tuple[int, bool]:
    """A counter as ipvsadm prints it, and whether it is exact."""
    if word.isdigit():
        return int(word), True
    if word[:-1].isdigit() and word[-1] in _SUFFIX:
        return int(word[:-1]) * _SUFFIX[word[-1]], False
    raise BadDump(source, f"not a counter: {word!r}", line_no)


# /proc/net/ip_vs's address:port: the kernel's "%08X:%04X", "[%pI6]:%04X" (IPv6 written out whole, 8
# groups of 4 digits: ipvsadm prints addresses shortened, ports in decimal without leading zeros)
_PROC_V4 = re.compile(r"([0-9A-F]{8}):([0-9A-F]{4})")
_PROC_V6 = re.compile(r"\[((?:[0-9a-f]{4}:){7}[0-9a-f]{4})\]:([0-9A-F]{4})")
_PROC_HEX8 = re.compile(r"[0-9A-F]{8}")


def _proc_addr(text: str) -> tuple[str, int] | None:
    """An address:port as /proc/net/ip_vs prints it, decoded; None for ipvsadm's forms."""
    m = _PROC_V4.fullmatch(text)
    if m:
        return str(ipaddress.IPv4Address(int(m.group(1), 16))), int(m.group(2), 16)
    m = _PROC_V6.fullmatch(text)
    if m:
        return normalize_ip(m.group(1)), int(m.group(2), 16)
    return None


# `ipvsadm -l` without -n prints a port by its /etc/services name (getservbyport): the names of the ports Services
# use most, with the numbers every distribution's /etc/services (IANA's registry) gives them; another name is refused
_PORT_NAMES = {"http": 80, "https": 443, "domain": 53, "http-alt": 8080, "webcache": 8080, "ssh": 22, "ftp": 21,
               "smtp": 25, "ntp": 123, "ldap": 389, "ldaps": 636, "mysql": 3306, "postgresql": 5432, "kerberos": 88,
               "snmp": 161, "imaps": 993, "pop3s": 995, "submission": 587, "microsoft-ds": 445, "sunrpc": 111, "nfs": 2049}


def _split_addr(text: str, source: str, line_no: int, named: dict[str, int] | None = None) -> tuple[str, int]:
    decoded = _proc_addr(text)
    if decoded is not None:
        return decoded
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = text.rpartition(":")
    if host and named is not None and port in _PORT_NAMES:
        named[port] = _PORT_NAMES[port]
        return normalize_ip(host), _PORT_NAMES[port]
    if not host or not port.isdigit():
        if host and port:
            raise BadDump(source, f"address {text!r} has a service name ({port!r}) this reader does not know, not a port "
                          "number", line_no, hint="list with numeric output: ipvsadm -Ln")
        raise BadDump(source, f"not an address:port: {text!r}", line_no)
    return normalize_ip(host), int(port)


def _real_addr(text: str, source: str, line_no: int, named: dict[str, int], hosts: list[tuple[int, str]]) -> tuple[str, int | None]:
    """A real server's address:port; "?" for a host name `ipvsadm -l` printed instead of the address (its DNS
    name: ipvsadm cuts "name:port" to 28 characters, so a long name lost its port too, None)."""
    host, colon, port = text.rpartition(":")
    if text.startswith("[") or _proc_addr(text) is not None or (colon and _is_ip(host)):
        return _split_addr(text, source, line_no, named)
    hosts.append((line_no, text))
    if not colon:
        return "?", None
    if port in _PORT_NAMES:
        named[port] = _PORT_NAMES[port]
    return "?", int(port) if port.isdigit() else _PORT_NAMES.get(port)


def _is_ip(text: str) -> bool:
    if CANONICAL_V4.fullmatch(text):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# "ssh $node ipvsadm -Ln" loops print a line naming the node before each listing:
# ">>> 172.27.138.251" (a common for-loop echo), "=== node-1 ===", "==> node-1 <=="
_NODE_MARK = re.compile(r"^(?:>{2,}|={2,}>?)\s*(?:node\s*[:=]?\s*)?([\w.:\[\]-]+?)\s*(?:={2,}|<{2,})?$", re.I)
# a shell prompt left in the paste (parse/excerpt.py made most of them "# " lines): "[root@vm01 ~]# ",
# "root@kind-worker:/# ", "u@node$ ", "$sudo ipvsadm …"
_PROMPT = re.compile(r"^(?:\[?[\w.-]+@([\w.-]+)[^$#%\]\s]*(?: [^$#%\]\s]*)?\]?\s*[$#%]|[$%])\s*")
_LISTING_COMMAND = re.compile(r"^(?:sudo\s+)?(?:\S*/)?ipvsadm\s+(-\S+)")
# `ipset list` typed without a prompt beside the listing: its output is read as kube-proxy's sets (ipset.py)
_CONNECTION_FLAG = re.compile(r"(?:^|\s)-[A-Za-z]*c[A-Za-z]*(?:\s|$)|--connection")
_IPSET_COMMAND = re.compile(r"^(?:sudo\s+)?(?:\S*/)?ipset\s+(?:list|-L|-l|save)\b")


@dataclass(slots=True)
class _Section:
    """The lines one command printed (a prompt or command line starts the next section)."""

    line_no: int  # the command or node line that opened it (0: the top of the paste)
    command: str  # "" when none was pasted
    node: str  # "" when the paste does not say
    lines: list[tuple[int, str]] = field(default_factory=list)


def _command_line(s: str) -> tuple[str, str] | None:
    """(command, host) for a prompt or command line, None for a listing line."""
    body = s[1:].strip() if s.startswith("#") else s
    if s.startswith("#") and body.startswith(("```", "~~~")):  # a Markdown fence the cleaner set aside: no command
        return "", ""
    m = _PROMPT.match(body)
    if m:
        return body[m.end():].strip(), m.group(1) or ""
    if s.startswith("#"):
        return body, ""
    return (body, "") if _LISTING_COMMAND.match(body) or _IPSET_COMMAND.match(body) else None


# a listing copied without its line breaks: a virtual server line and its first real server, or two real
# servers, on one line ("TCP  10.96.0.1:443 rr  -> 10.0.0.2:8443   Masq 1 2 0"); ipvsadm prints "->" only to
# start a real server line
_JOINED = re.compile(r"\s+(?=->\s)")
_LISTED = ("->", "TCP ", "UDP ", "SCTP ", "FWM ")


def _sections(text: str, joined: list[int] | None = None) -> list[_Section]:
    node = ""
    sections = [_Section(0, "", "")]
    for line_no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        if s.startswith(_LISTED):  # the bulk of a listing: neither a node line nor a prompt
            parts = _JOINED.split(s) if " -> " in s or "\t-> " in s else [s]
            if len(parts) > 1 and joined is not None:
                joined.append(line_no)
            sections[-1].lines.extend((line_no, part) for part in parts)
            continue
        if joined is not None and s.startswith(HEADS) and "-> RemoteAddress:Port" in s:  # (the two head lines as one)
            joined.append(line_no)
        mark = _NODE_MARK.match(s)
        if mark:
            node = mark.group(1)
            sections.append(_Section(line_no, "", node))
            continue
        cmd = _command_line(s)
        if cmd is not None:
            sections.append(_Section(line_no, cmd[0], cmd[1] or node))
            continue
        last = sections[-1]
        if _VERSION.match(s) and any(_VERSION.match(t) for _, t in last.lines):  # a loop's next listing
            sections.append(last := _Section(line_no, last.command, last.node))
        last.lines.append((line_no, s))
    return [sec for sec in sections if sec.lines or sec.command]


def parse_ipvsadm(text: str, source: str, lenient: bool = False) -> IpvsTable:
    """The virtual server table(s) of one paste.

    What is not ipvsadm output is left out with a notice: another command's output under its
    own prompt (``# kubectl describe svc …``, ``# ip addr``), lines before a listing's first
    line. Inside a listing a line that is not ipvsadm's stops the read, unless ``lenient``.
    Listings of several nodes (``>>> NODE`` lines, prompts of different hosts, or the same
    listing printed again) are one table when every node holds the same virtual servers, real
    servers and weights; when they differ, BadDump says which (``split_nodes`` cuts such a
    paste into one text per node first, so that each node gets its own report).
    """
    if "\x00" in text:
        raise BadDump(source, "binary data, not ipvsadm output")
    read = _read_nodes(text, source, lenient)
    nodes, skipped, state = read.nodes, read.skipped, read.state
    if not nodes:
        raise BadDump(source, "no ipvsadm listing in the input",
                      hint="pass the output of `ipvsadm -Ln` and/or `ipvsadm -Ln --stats --exact`")
    table = _one_node(nodes, source)
    _mark_cut_below(table, text)
    info = table.dumps[0]
    skipped = _read_ipsets(table, text, source, skipped)
    conns = [part for part in skipped if _is_connection_listing(part[2])]
    if conns:
        info.notices.append(_connections_note(source, conns))
        skipped = [part for part in skipped if part not in conns]
    if skipped:
        info.notices.append(_skipped_note(source, skipped))
    info.notices.extend(state.notices)
    if state.named or state.hosts:
        info.notices.append(_names_note(source, state.named, state.hosts))
    if state.hidden or state.hidden_rs:
        info.notices.append(_hidden_note(source, state.hidden, state.hidden_rs))
        info.excerpt = info.excerpt or bool(state.hidden)
    if state.joined:
        info.notices.append(f"{source}: {numbered('line', state.joined)} {agrees(len(state.joined), 'holds', 'hold')} several "
                            "listing lines each (the line breaks were lost when it was copied): read as split before each '->'")
    if state.connections:
        info.notices.append(_connections_note(source, [(state.connections[0], state.connections[-1], "ipvsadm -Lnc")]))
    if state.foreign:
        n = len(state.foreign)
        info.notices.append(f"{source}: --lenient left out {counted(n, 'line')} that {agrees(n, 'is', 'are')} not "
                            f"ipvsadm's ({numbered('line', state.foreign)})")
    if state.headerless and not any(f in info.forms for f in ("list", "stats", "rate", "persistent-conn", "thresholds")):
        info.excerpt = True
        info.notices.append(f"{source}: ipvsadm lines without the listing's title lines (cut from a listing): "
                            "the rest of the table may exist, so nothing is said to be absent")
    if not info.forms and table.virtual_servers:
        info.forms.append("list")
    return table


def _mark_cut_below(table: IpvsTable, text: str) -> None:
    """A paste whose last line is a virtual server's without a real server: the cut may have been right below it, so
    whether it has real servers is not in the input (a line after it - the next virtual server, a prompt, another
    command's output - shows that its listing went on without any)."""
    tail = text.rstrip()
    last = tail[tail.rfind("\n") + 1:].strip()
    for vs in table.virtual_servers.values():
        if not vs.real_servers and vs.raw.strip() == last:
            vs.cut_below = True


def _read_ipsets(table: IpvsTable, text: str, source: str, skipped: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """An `ipset list` printed beside the listing is read (kube-proxy's sets say what kind each virtual
    server is), not left out; the skipped parts that are not its lines are returned."""
    if "Name:" not in text:
        return skipped
    from kubectl_svcpath.modes.ipvs.ipset import parse_ipsets

    sets, own = parse_ipsets(text, source)
    if not sets.names:
        return skipped
    table.ipsets = sets
    table.dumps[0].forms.append("ipset")
    lines = text.splitlines()

    def read(first: int, last: int) -> bool:
        return all(n in own or not lines[n - 1].strip() for n in range(first, last + 1))

    return [part for part in skipped if not read(part[0], part[1])]


@dataclass(slots=True)
class _Read:
    nodes: dict[str, tuple[IpvsTable, int]]
    owned: dict[str, set[int]]
    skipped: list[tuple[int, int, str]]
    state: _State


def _read_nodes(text: str, source: str, lenient: bool) -> _Read:
    """Each node's table (a paste may hold several), the lines each owns, and what was left out."""
    nodes: dict[str, tuple[IpvsTable, int]] = {}  # node (or "#N": the Nth unnamed listing) -> its table, first line
    owned: dict[str, set[int]] = {}  # node -> the lines of its listings (and the lines that opened them)
    skipped: list[tuple[int, int, str]] = []  # (first line, last line, the command that printed them)
    state = _State(source, lenient)
    unnamed = 1
    last = ""
    for sec in _sections(text, state.joined):
        start = next((i for i, (_, s) in enumerate(sec.lines) if _is_listing_line(s)), None)
        if start is None:
            if sec.lines:
                skipped.append((sec.lines[0][0], sec.lines[-1][0], sec.command))
            continue
        key = sec.node
        if not key:
            # no node named: the listing goes with the one before it, unless it is the same kind of listing
            # again (a loop over nodes or pods printing one after the other)
            key = last or f"#{unnamed}"
            if key in nodes and _form_of(sec.lines) in nodes[key][0].dumps[0].forms:
                unnamed += 1
                key = f"#{unnamed}"
        last = key
        if key not in nodes:
            nodes[key] = (IpvsTable(dumps=[IpvsDumpInfo(source=source)]), sec.line_no or sec.lines[start][0])
            state.current = None
        table = nodes[key][0]
        owned.setdefault(key, set()).update([sec.line_no] if sec.line_no else [], (n for n, _ in sec.lines))
        if start:  # "[sudo] password for …", "Every 2.0s: ipvsadm -Ln": not part of the table
            skipped.append((sec.lines[0][0], sec.lines[start - 1][0], sec.command))
        for line_no, s in sec.lines[start:]:
            state.line(table, line_no, s)
    return _Read(nodes, owned, skipped, state)


def split_nodes(text: str, source: str) -> list[tuple[str, str]]:
    """A paste of several nodes' listings that differ, as (node, text) per node: the text keeps every
    line number, with the other nodes' listings blanked. [] when the paste holds one node's table, or
    several that agree (read as one)."""
    if "\x00" in text or _one_plain_listing(text):
        return []
    try:
        read = _read_nodes(text, source, lenient=True)
    except BadDump:
        return []  # unreadable: parse_ipvsadm says why
    tables = list(read.nodes.items())
    if len(tables) < 2 or not any(_difference(tables[0][1][0], t, "", "") for _, (t, _) in tables[1:]):
        return []
    lines = text.splitlines()  # as _sections numbers them
    parts = []
    for key in read.nodes:
        others = set().union(*(o for k, o in read.owned.items() if k != key))
        parts.append((_node_word(key).removeprefix("node "),
                      "\n".join("" if n in others else line for n, line in enumerate(lines, 1))))
    return parts


# a line of none of a listing's own shapes - "TCP …", "  -> …", its title and column heads, blank -, led by its newline
_NOT_LISTING_LINE = re.compile(r"\n(?![ \t]*(?:->|(?:TCP|UDP|SCTP|FWM) |" + TITLE + " |" + "|".join(h + " " for h in HEADS)
                               + r"|\r?\n|\r?$))")


def _one_plain_listing(text: str) -> bool:
    """One listing and nothing else (no node line, prompt or command; one title, one heads line): one node's table,
    told without reading its lines (split_nodes' reading took ~2 s for 10^5 real servers, and parse_ipvsadm reads
    them again)."""
    if text.count(TITLE) > 1 or sum(map(text.count, HEADS)) > 1:
        return False
    first_line = "\n" + text.split("\n", 1)[0]
    return _NOT_LISTING_LINE.match(first_line) is None and _NOT_LISTING_LINE.search(text) is None


def _form_of(lines: list[tuple[int, str]]) -> str | None:
    """The form a section's column heads announce (None: no heads in it)."""
    head = next((s for _, s in lines if s.startswith(HEADS)), None)
    return _head_form(head.split()) if head else None


def _head_form(head: list[str]) -> str:
    return ("stats" if "Conns" in head else "rate" if "CPS" in head else
            "persistent-conn" if "PersistConn" in head else "thresholds" if "Uthreshold" in head else "list")


def _is_connection_listing(command: str) -> bool:
    """``ipvsadm -Lnc`` / ``-L -n -c`` / ``--connection``: the connection entries, not the table."""
    return _LISTING_COMMAND.match(command) is not None and _CONNECTION_FLAG.search(command) is not None


def _connections_note(source: str, parts: list[tuple[int, int, str]]) -> str:
    where = ", ".join(f"line {a}" if a == b else f"lines {a}-{b}" for a, b, _ in parts)
    return (f"{source}: `ipvsadm -Lnc` connection entries ({where}) not read one by one: each real server's "
            "ActiveConn/InActConn (ipvsadm -Ln) counts them")


# an address the author replaced before pasting: "<ipv4-public-prefix>.20:3129", "[<ipv6-prefix-1>:700::66d:75b7]:80",
# "x.x.x.20:80", "10.*.*.5:443" (ipvsadm prints digits and hex only, and a host name has no "<", "*" or lone "x")
_HIDDEN = re.compile(r"<[^<>\s]*>|(?:^|[.\[])(?:[xX]{1,3}|\*{1,3})(?=[.:])")


def _hidden(token: str) -> bool:
    return ("<" in token or "x" in token or "X" in token or "*" in token) and _HIDDEN.search(token) is not None


def _hidden_note(source: str, servers: list[tuple[int, str]], reals: list[tuple[int, str]]) -> str:
    """Addresses the author hid: what was read without them."""
    parts = []
    if servers:
        shown = listed([f"'{a}' (line {n})" for n, a in servers])
        parts.append(f"virtual {'server' if len(servers) == 1 else 'servers'} {shown}: the address is hidden in the paste, "
                     f"so {agrees(len(servers), 'it and its real servers are', 'they and their real servers are')} left "
                     "out and the table is read as a part: nothing is said to be absent")
    if reals:
        shown = listed([f"'{a}' (line {n})" for n, a in reals])
        parts.append(f"real {'server' if len(reals) == 1 else 'servers'} {shown}: the address is hidden in the paste "
                     "(read without it)")
    return f"{source}: " + "; ".join(parts)


def _names_note(source: str, named: dict[str, int], hosts: list[tuple[int, str]]) -> str:
    """`ipvsadm -l` without -n: what its names were read as, and what they cost."""
    parts = []
    if named:
        parts.append("ports printed by their service names were read as the numbers /etc/services gives them ("
                     + ", ".join(f"{name} {number}" for name, number in sorted(named.items(), key=lambda kv: kv[1])) + ")")
    if hosts:
        shown = listed([f"'{name}' (line {n})" for n, name in hosts])
        parts.append(f"{'real server' if len(hosts) == 1 else 'real servers'} {shown} {agrees(len(hosts), 'is', 'are')} "
                     "printed by a host name, which ipvsadm cuts to 28 characters: the address (and a cut name's port) is "
                     "not in the input")
    return f"{source}: a listing without -n (ipvsadm -l): " + "; ".join(parts) + " (ipvsadm -Ln prints numbers)"


def _skipped_note(source: str, skipped: list[tuple[int, int, str]]) -> str:
    parts = []
    for first, last, command in skipped[:6]:
        where = f"line {first}" if first == last else f"lines {first}-{last}"
        parts.append(f"{where} ({_short(command)} output)" if command else where)
    more = f" and {len(skipped) - 6} more" if len(skipped) > 6 else ""
    return f"{source}: not ipvsadm output, left out: {', '.join(parts)}{more}"


def _short(command: str) -> str:
    return f"`{command[:60]}{'…' if len(command) > 60 else ''}`"


def _one_node(nodes: dict[str, tuple[IpvsTable, int]], source: str) -> IpvsTable:
    """One node's table; several nodes' tables only when they are the same."""
    tables = list(nodes.items())
    first_name, (first, _) = tables[0]
    if len(tables) == 1:
        return first
    for name, (other, _) in tables[1:]:
        diff = _difference(first, other, _node_word(first_name), _node_word(name))
        if diff:
            what = (f"{len(tables)} ipvsadm listings of the same kind (several nodes?)" if first_name.startswith("#")
                    else f"{len(tables)} nodes' IPVS tables")
            raise BadDump(source, f"{what} in one paste, and they differ: {diff}", hint=_split_hint(nodes))
    names = ", ".join(_node_word(n) for n, _ in tables)
    first.dumps[0].nodes = [n for n, _ in tables]
    what = f"{len(tables)} ipvsadm listings of the same kind" if first_name.startswith("#") else f"{len(tables)} nodes' listings"
    # (what is one node's: only what the listings show; "and counters" beside "no ipvsadm --stats listing" said both)
    conns = any(rs.active_conns is not None for vs in first.virtual_servers.values() for rs in vs.real_servers)
    counted = any(vs.stats is not None for vs in first.virtual_servers.values())  # (not has_stats: it caches its answer)
    shown = " and ".join(w for w, has in (("connection counts", conns), ("counters", counted)) if has)
    first.dumps[0].notices.append(
        f"{source} holds {what} ({names}) with the same virtual servers, real servers and "
        f"weights: read as one" + (f"; {shown} are {_node_word(first_name)}'s" if shown else ""))
    return first


def _node_word(name: str) -> str:
    return f"listing {name[1:]}" if name.startswith("#") else f"node {name}"


def _split_hint(nodes: dict[str, tuple[IpvsTable, int]]) -> str:
    lines = ", ".join(str(first) for _, (_, first) in nodes.items())
    return f"split it where each node's listing starts (lines {lines}) and pass one node's listing per run with --rules-file"


def _difference(a: IpvsTable, b: IpvsTable, name_a: str, name_b: str) -> str:
    """The first way two nodes' tables differ in what kube-proxy programs ("" when they do not)."""
    for key, vs in a.virtual_servers.items():
        other = b.virtual_servers.get(key)
        if other is None:
            return f"{vs.label} is on {name_a}, not on {name_b}"
        if vs.scheduler and other.scheduler and (vs.scheduler, vs.persistent, vs.netmask) != (other.scheduler, other.persistent, other.netmask):
            return f"{vs.label} is scheduled differently ({_sched(vs)} on {name_a}, {_sched(other)} on {name_b})"
        mine = {(rs.address, rs.port): rs.weight for rs in vs.real_servers}
        theirs = {(rs.address, rs.port): rs.weight for rs in other.real_servers}
        only = sorted(set(mine) ^ set(theirs))
        if only:
            ip, port = only[0]
            on, off = (name_a, name_b) if (ip, port) in mine else (name_b, name_a)
            return f"{vs.label} -> {f'[{ip}]' if ':' in ip else ip}:{port} is on {on}, not on {off}"
        if any(w is not None and theirs[k] is not None and w != theirs[k] for k, w in mine.items()):
            return f"{vs.label} has other real server weights on {name_a} than on {name_b}"
    for key, vs in b.virtual_servers.items():
        if key not in a.virtual_servers:
            return f"{vs.label} is on {name_b}, not on {name_a}"
    return ""


def _sched(vs: VirtualServer) -> str:
    return " ".join(str(x) for x in (vs.scheduler or "?", f"persistent {vs.persistent}" if vs.persistent else "") if x)


@dataclass(slots=True)
class _State:
    """Line-by-line reading of ipvsadm output: the column heads in force, the virtual server being filled."""

    source: str
    lenient: bool
    form: str | None = None  # None until a "Prot LocalAddress:Port" line says which columns follow
    current: VirtualServer | None = None
    headerless: bool = False
    notices: list[str] = field(default_factory=list)
    foreign: list[int] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)  # `ipvsadm -Lnc` lines printed within a listing
    named: dict[str, int] = field(default_factory=dict)  # ports printed by their service names (ipvsadm -l without -n)
    hosts: list[tuple[int, str]] = field(default_factory=list)  # real servers printed by a host name: (line, name)
    joined: list[int] = field(default_factory=list)  # lines that hold several listing lines (line breaks lost)
    hidden: list[tuple[int, str]] = field(default_factory=list)  # virtual servers whose address the author hid
    hidden_rs: list[tuple[int, str]] = field(default_factory=list)  # real servers likewise
    skipping: bool = False  # inside a hidden virtual server: its real servers are left out with it

    def line(self, table: IpvsTable, line_no: int, s: str) -> None:
        info = table.dumps[0]
        source = self.source
        if s.startswith(CONN_HEADS) or CONN_ENTRY.match(s):
            self.connections.append(line_no)
            return
        m = _VERSION.match(s)
        if m:
            info.version = m.group(1)
            return
        if s.startswith(HEADS):
            self.form = _head_form(s.split())
            if self.form not in info.forms:
                info.forms.append(self.form)
            self.current = None
            return
        if s.startswith("-> RemoteAddress:Port"):
            return
        words = s.split()
        try:
            if words[0] in ("-A", "-a"):
                if "rules" not in info.forms:
                    info.forms.append("rules")
                self.current = _rule_line(table, words, source, line_no, s, self.current)
                return
            if (words[0] in _PROTOS or words[0] == "FWM") and len(words) > 1:
                form = self.form or self._guess(words[2:], line_no)
                self.skipping = _hidden(words[1])
                if self.skipping:  # ("TCP  <ipv4-public-prefix>.20:3129 rr": no address to key it by)
                    self.hidden.append((line_no, words[1]))
                    self.current = None
                    return
                self.current = _service_line(table, words, form, source, line_no, s, info, self.named)
                return
            if words[0] == "->" and len(words) > 1:
                if self.skipping:
                    return
                if self.current is None:
                    raise BadDump(source, "real server line before any virtual server", line_no)
                form = self.form or self._guess(words[2:], line_no)
                _real_server_line(self.current, words[1:], form, source, line_no, s, info, self)
                return
        except ValueError:  # a number int() refuses: over 4,300 digits, or digits that are not 0-9
            raise BadDump(source, f"unreadable number in {s[:80]!r}", line_no) from None
        if not self.lenient:
            raise BadDump(source, f"not an ipvsadm line: {s[:80]!r}", line_no,
                          hint="pass the output of `ipvsadm -Ln` and/or `ipvsadm -Ln --stats --exact` "
                               "(--lenient leaves out lines that are not ipvsadm's, with a note)")
        self.foreign.append(line_no)

    def _guess(self, rest: list[str], line_no: int) -> str:
        """Columns without their "Prot LocalAddress:Port" head: a scheduler or forward word says -Ln; numbers could
        be --stats or --rate, which only the head tells apart."""
        self.headerless = True
        if not rest or not rest[0][:1].isdigit():
            return "list"
        raise BadDump(self.source, "counters without the listing's column heads: --stats or --rate cannot be told apart",
                      line_no, hint="paste the 'Prot LocalAddress:Port …' line of the listing too")


def _virtual_addr(text: str, procfs: bool, source: str, line_no: int, named: dict[str, int]) -> tuple[str, int]:
    """A virtual server's address:port; refused when ipvsadm -l (without -n) printed a host name in its place."""
    if ":" not in text and is_cut_name(text):
        raise BadDump(source, f"virtual server {text!r} is printed by a host name (ipvsadm -l without -n), cut to "
                      f"{CUT_WIDTH} characters with its port: its address and port are not in the input", line_no,
                      hint="list with numeric output: ipvsadm -Ln")
    address, port = _split_addr(text, source, line_no, named)
    if not procfs and not _is_ip(address):
        raise BadDump(source, f"virtual server {text!r} is printed by a host name (ipvsadm -l without -n): its "
                      "address is not in the input", line_no, hint="list with numeric output: ipvsadm -Ln")
    return address, port


def _service_line(table: IpvsTable, words: list[str], form: str, source: str, line_no: int, raw: str,
                  info: IpvsDumpInfo, named: dict[str, int]) -> VirtualServer:
    proto = words[0]
    rest = words[1:]
    procfs = False
    if proto == "FWM":
        # (/proc/net/ip_vs prints the mark as %08X: eight hex digits, leading zeros; ipvsadm as %d)
        procfs = bool(rest) and _PROC_HEX8.fullmatch(rest[0]) is not None and (rest[0][0] == "0" or not rest[0].isdigit())
        if not rest or not (rest[0].isdigit() or procfs):
            raise BadDump(source, "firewall-mark service without a mark", line_no)
        mark = int(rest[0], 16 if procfs else 10)
        family = "IPv6" if len(rest) > 1 and rest[1] == "IPv6" else ""
        vs = table.ensure("FWM", family, mark)
        vs.fwmark = mark
        rest = rest[2:] if family else rest[1:]
    else:
        if not rest:
            raise BadDump(source, "virtual server line without an address", line_no)
        procfs = _proc_addr(rest[0]) is not None
        address, port = _virtual_addr(rest[0], procfs, source, line_no, named)
        vs = table.ensure(proto, address, port)
        rest = rest[1:]
    if procfs and "procfs" not in info.forms:
        info.forms.append("procfs")
        info.notices.append(f"{source}: the kernel's /proc/net/ip_vs listing (addresses and ports in hex): "
                            "virtual and real servers, weights and connections, no packet counters")
    if not vs.line_no or form in _FLAG_FORMS:
        vs.source, vs.line_no, vs.raw = source, line_no, raw
    if form in _FLAG_FORMS:  # ipvsadm prints the scheduler and flags in every listing but --stats/--rate
        if rest:
            vs.scheduler = rest[0]
        flags = rest[1:]
        i = 0
        while i < len(flags):
            f = flags[i]
            if f == "persistent" and i + 1 < len(flags) and flags[i + 1].isdigit():
                vs.persistent = int(flags[i + 1])
                i += 2
                if procfs and i < len(flags) and _PROC_HEX8.fullmatch(flags[i]):  # its netmask, %08X
                    if flags[i] != "FFFFFFFF" and ":" not in vs.address:  # (ipvsadm shows an IPv4 mask but /32)
                        vs.netmask = str(ipaddress.IPv4Address(int(flags[i], 16)))
                    i += 1
                continue
            if f == "mask" and i + 1 < len(flags):
                vs.netmask = flags[i + 1]
                i += 2
                continue
            vs.flags.append(f)
            i += 1
    elif form == "stats":
        vs.stats = _stats(rest, source, line_no, info)
    elif form == "rate":
        vs.rate = _rate(rest, source, line_no)
    return vs


def _stats(words: list[str], source: str, line_no: int, info: IpvsDumpInfo) -> IpvsStats:
    if len(words) != 5:
        raise BadDump(source, f"expected 5 counters (Conns InPkts OutPkts InBytes OutBytes), found {len(words)}", line_no)
    values = [_number(w, source, line_no) for w in words]
    exact = all(e for _, e in values)
    if not exact:
        info.exact = False
    conns, inpkts, outpkts, inbytes, outbytes = (v for v, _ in values)
    return IpvsStats(conns, inpkts, outpkts, inbytes, outbytes, exact=exact)


def _rate(words: list[str], source: str, line_no: int) -> IpvsRate:
    if len(words) != 5:
        raise BadDump(source, f"expected 5 rates (CPS InPPS OutPPS InBPS OutBPS), found {len(words)}", line_no)
    return IpvsRate(*(_number(w, source, line_no)[0] for w in words))


def _real_server_line(vs: VirtualServer, words: list[str], form: str, source: str, line_no: int, raw: str,
                      info: IpvsDumpInfo, state: _State) -> None:
    if not words:
        raise BadDump(source, "real server line without an address", line_no)
    notices = state.notices
    if _hidden(words[0]):  # the author hid it: no address, its port still read
        state.hidden_rs.append((line_no, words[0]))
        digits = words[0].rpartition(":")[2]
        address, port = "?", int(digits) if digits.isdigit() and len(digits) <= 5 else None
    else:
        address, port = _real_addr(words[0], source, line_no, state.named, state.hosts)
    rs = vs.real_server(address, port, words[0] if address == "?" else None)
    if not rs.line_no or form == "list":
        rs.source, rs.line_no, rs.raw = source, line_no, raw
    rest = words[1:]
    try:
        if form == "list":
            if len(rest) < 2:
                if rest and rest[0] not in _FORWARDS:
                    raise BadDump(source, "real server line needs Forward Weight ActiveConn InActConn", line_no)
                # cut short in the paste ("  -> [fd00:3000:2::2]:5001  " above the author's "..."): the address is there
                rs.forward = rest[0] if rest else rs.forward
                notices.append(f"{source} line {line_no}: the real server line ends after its "
                               f"{'forward method' if rest else 'address'}: its weight and connections are not in the input")
                return
            rs.forward, rs.weight = rest[0], int(rest[1])
            if len(rest) >= 4:
                rs.active_conns, rs.inactive_conns = int(rest[2]), int(rest[3])
            else:  # a line cut short in the paste: forward and weight are there, the connection counts are not
                rs.active_conns = int(rest[2]) if len(rest) == 3 else None
                notices.append(f"{source} line {line_no}: the real server line ends before its "
                               f"{'InActConn' if len(rest) == 3 else 'ActiveConn and InActConn'} column: "
                               "read its forward method and weight")
        elif form == "stats":
            rs.stats = _stats(rest, source, line_no, info)
        elif form == "rate":
            rs.rate = _rate(rest, source, line_no)
        elif form == "persistent-conn" and len(rest) >= 4:
            rs.weight, rs.persistent_conns = int(rest[0]), int(rest[1])
            rs.active_conns, rs.inactive_conns = int(rest[2]), int(rest[3])
        elif form == "thresholds" and len(rest) >= 4:  # Uthreshold Lthreshold ActiveConn InActConn
            rs.active_conns, rs.inactive_conns = int(rest[2]), int(rest[3])
    except ValueError:
        raise BadDump(source, f"not a number in {raw[:80]!r}", line_no) from None


def _rule_line(table: IpvsTable, words: list[str], source: str, line_no: int, raw: str,
               current: VirtualServer | None) -> VirtualServer:
    """``-A -t VIP:PORT -s rr [-p T]`` / ``-a -t VIP:PORT -r RIP:PORT -m -w W`` (ipvsadm -Sn)."""
    if len(words) < 3 or words[1] not in _RULE_PROTO:
        raise BadDump(source, "ipvsadm rule without -t/-u/--sctp-service/-f", line_no)
    proto = _RULE_PROTO[words[1]]
    if proto == "FWM":
        mark = int(words[2]) if words[2].isdigit() else 0
        vs = table.ensure("FWM", "", mark)
        vs.fwmark = mark
    else:
        address, port = _split_addr(words[2], source, line_no)
        vs = table.ensure(proto, address, port)
    opts = words[3:]
    if words[0] == "-A":
        vs.source, vs.line_no, vs.raw = source, line_no, raw
        i = 0
        while i < len(opts):
            o = opts[i]
            nxt = opts[i + 1] if i + 1 < len(opts) else None
            if o in ("-s", "--scheduler") and nxt:
                vs.scheduler = nxt
                i += 2
            elif o in ("-p", "--persistent"):
                vs.persistent = int(nxt) if nxt and nxt.isdigit() else 300
                i += 2 if nxt and nxt.isdigit() else 1
            elif o in ("-M", "--netmask") and nxt:
                vs.netmask = nxt
                i += 2
            else:
                vs.flags.append(o)
                i += 1
        return vs
    rs_address: str | None = None
    rs_port: int | None = None
    forward = None
    weight = None
    i = 0
    while i < len(opts):
        o = opts[i]
        nxt = opts[i + 1] if i + 1 < len(opts) else None
        if o in ("-r", "--real-server") and nxt:
            rs_address, rs_port = _split_addr(nxt, source, line_no)
            i += 2
        elif o in ("-w", "--weight") and nxt and nxt.isdigit():
            weight = int(nxt)
            i += 2
        elif o in _FORWARD:
            forward = _FORWARD[o]
            i += 1
        else:
            i += 1
    if rs_address is None:
        raise BadDump(source, "real server rule without -r", line_no)
    rs = vs.real_server(rs_address, rs_port or 0)
    rs.forward, rs.weight = forward or rs.forward, weight if weight is not None else rs.weight
    rs.source, rs.line_no, rs.raw = source, line_no, raw
    return vs

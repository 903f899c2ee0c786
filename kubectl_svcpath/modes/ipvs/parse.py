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
"""

from __future__ import annotations

import re

from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.modes.ipvs.model import IpvsDumpInfo, IpvsRate, IpvsStats, IpvsTable, VirtualServer, normalize_ip

_VERSION = re.compile(r"^IP Virtual Server version (\S+)")
_PROTOS = ("TCP", "UDP", "SCTP")
_SUFFIX = {"K": 1000, "M": 1000_000, "G": 1000_000_000, "T": 1000_000_000_000}
_RULE_PROTO = {"-t": "TCP", "--tcp-service": "TCP", "-u": "UDP", "--udp-service": "UDP",
               "--sctp-service": "SCTP", "-f": "FWM", "--fwmark-service": "FWM"}
_FORWARD = {"-m": "Masq", "--masquerading": "Masq", "-g": "Route", "--gatewaying": "Route",
            "-i": "Tunnel", "--ipip": "Tunnel"}


def looks_like_ipvsadm(text: str) -> bool:
    """True for ipvsadm -L/-Ln (any of --stats/--rate) or -Sn output."""
    for line in text.splitlines()[:40]:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if _VERSION.match(s) or s.startswith("Prot LocalAddress:Port"):
            return True
        words = s.split()
        return len(words) >= 2 and words[0] in ("-A", "-a") and words[1] in _RULE_PROTO
    return False


def _number(word: str, source: str, line_no: int) -> tuple[int, bool]:
    """A counter as ipvsadm prints it, and whether it is exact."""
    if word.isdigit():
        return int(word), True
    if word[:-1].isdigit() and word[-1] in _SUFFIX:
        return int(word[:-1]) * _SUFFIX[word[-1]], False
    raise BadDump(source, f"not a counter: {word!r}", line_no)


def _split_addr(text: str, source: str, line_no: int) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        if host and port:
            raise BadDump(source, f"address {text!r} has a service name, not a port number", line_no,
                          hint="list with numeric output: ipvsadm -Ln")
        raise BadDump(source, f"not an address:port: {text!r}", line_no)
    return normalize_ip(host), int(port)


def parse_ipvsadm(text: str, source: str) -> IpvsTable:
    if "\x00" in text:
        raise BadDump(source, "binary data, not ipvsadm output")
    info = IpvsDumpInfo(source=source)
    table = IpvsTable(dumps=[info])
    form = "list"
    current: VirtualServer | None = None
    for line_no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):  # (prompts and commands pasted with it: see parse/excerpt.py)
            continue
        m = _VERSION.match(s)
        if m:
            info.version = m.group(1)
            continue
        if s.startswith("Prot LocalAddress:Port"):
            head = s.split()
            form = ("stats" if "Conns" in head else "rate" if "CPS" in head else
                    "persistent-conn" if "PersistConn" in head else "thresholds" if "Uthreshold" in head else "list")
            if form not in info.forms:
                info.forms.append(form)
            current = None
            continue
        if s.startswith("-> RemoteAddress:Port"):
            continue
        words = s.split()
        try:
            if words[0] in ("-A", "-a"):
                if "rules" not in info.forms:
                    info.forms.append("rules")
                current = _rule_line(table, words, source, line_no, s, current)
                continue
            if words[0] in _PROTOS or words[0] == "FWM":
                current = _service_line(table, words, form, source, line_no, s, info)
                continue
            if words[0] == "->":
                if current is None:
                    raise BadDump(source, "real server line before any virtual server", line_no)
                _real_server_line(current, words[1:], form, source, line_no, s, info)
                continue
            raise BadDump(source, f"not an ipvsadm line: {s[:80]!r}", line_no,
                          hint="pass the output of `ipvsadm -Ln` and/or `ipvsadm -Ln --stats --exact`")
        except ValueError:  # a number int() refuses: over 4,300 digits, or digits that are not 0-9
            raise BadDump(source, f"unreadable number in {s[:80]!r}", line_no) from None
    if not info.forms and table.virtual_servers:
        info.forms.append("list")
    return table


def _service_line(table: IpvsTable, words: list[str], form: str, source: str, line_no: int, raw: str,
                  info: IpvsDumpInfo) -> VirtualServer:
    proto = words[0]
    rest = words[1:]
    if proto == "FWM":
        if not rest or not rest[0].isdigit():
            raise BadDump(source, "firewall-mark service without a mark", line_no)
        mark = int(rest[0])
        family = "IPv6" if len(rest) > 1 and rest[1] == "IPv6" else ""
        vs = table.ensure("FWM", family, mark)
        vs.fwmark = mark
        rest = rest[2:] if family else rest[1:]
    else:
        if not rest:
            raise BadDump(source, "virtual server line without an address", line_no)
        address, port = _split_addr(rest[0], source, line_no)
        vs = table.ensure(proto, address, port)
        rest = rest[1:]
    if not vs.line_no or form == "list":
        vs.source, vs.line_no, vs.raw = source, line_no, raw
    if form == "list":
        if rest:
            vs.scheduler = rest[0]
        flags = rest[1:]
        i = 0
        while i < len(flags):
            f = flags[i]
            if f == "persistent" and i + 1 < len(flags) and flags[i + 1].isdigit():
                vs.persistent = int(flags[i + 1])
                i += 2
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
                      info: IpvsDumpInfo) -> None:
    if not words:
        raise BadDump(source, "real server line without an address", line_no)
    address, port = _split_addr(words[0], source, line_no)
    rs = vs.real_server(address, port)
    if not rs.line_no or form == "list":
        rs.source, rs.line_no, rs.raw = source, line_no, raw
    rest = words[1:]
    try:
        if form == "list":
            if len(rest) < 4:
                raise BadDump(source, "real server line needs Forward Weight ActiveConn InActConn", line_no)
            rs.forward = rest[0]
            rs.weight, rs.active_conns, rs.inactive_conns = int(rest[1]), int(rest[2]), int(rest[3])
        elif form == "stats":
            rs.stats = _stats(rest, source, line_no, info)
        elif form == "rate":
            rs.rate = _rate(rest, source, line_no)
        elif form == "persistent-conn" and len(rest) >= 4:
            rs.weight, rs.persistent_conns = int(rest[0]), int(rest[1])
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

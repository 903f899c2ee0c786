"""Is this text ipvsadm's? Asked of every dump before it is read, so it imports nothing of the reader."""

from __future__ import annotations

import re

# the column heads; "Port" is how some write "Prot" by hand (kubernetes/enhancements' IPVS KEP does)
HEADS = ("Prot LocalAddress:Port", "Port LocalAddress:Port")
TITLE = "IP Virtual Server version"  # the first line of ipvsadm -L and of /proc/net/ip_vs
_VERSION = re.compile(rf"^{TITLE} (\S+)")
_PROTOS = ("TCP", "UDP", "SCTP")
_RULE_PROTO = {"-t": "TCP", "--tcp-service": "TCP", "-u": "UDP", "--udp-service": "UDP",
               "--sctp-service": "SCTP", "-f": "FWM", "--fwmark-service": "FWM"}
# a token that is an ipvsadm address:port (IPv4, [IPv6], or a name when -n was not given; "<…>" or "*" where the
# author hid a part of it: "<ipv4-public-prefix>.20:3129")
_ADDR = re.compile(r"^(?:\[[\w:.<>*-]+\]|[\w.<>*-]+):\w+$")
_PROC_MARK = re.compile(r"[0-9A-F]{8}")
# `ipvsadm -l` without -n cuts "host-name:port" to 28 characters: a long DNS name loses its port, colon and all
# ("TCP  ip-10-49-120-28.eu-west-1.co rr", an EC2 node's cluster IP by its reverse name)
CUT_NAME = re.compile(r"^(?=[\w.-]*[A-Za-z])[\w-]+\.[\w.-]+$")
CUT_WIDTH = 28
# `ipvsadm -Lnc`: "TCP 14:59  ESTABLISHED 10.244.1.1:51234 10.96.0.1:443 192.168.0.1:6443" (expire MM:SS,
# state, client, virtual, real server): one connection, not a virtual server "14" port 59
CONN_ENTRY = re.compile(r"^(?:TCP|UDP|SCTP|IP)\s+\d+:\d\d\s+[A-Z_]+\s+\S+\s+\S+\s+\S+\s*$")
CONN_HEADS = ("IPVS connection entries", "pro expire state")
# the first words of other rule dumps: a paste that starts with one is not ipvsadm output
_OTHER_DUMPS = re.compile(r"^(?:\*\w|:\S+ \S+ \[|\[\d+:\d+\]|Chain \S+ \(|table \w+ \S+ \{|COMMIT$|-[NP] )")


def is_listing_line(s: str) -> bool:
    """A line ipvsadm prints (title, column heads, a virtual or real server, an -Sn rule)."""
    if _VERSION.match(s) or s.startswith(HEADS + ("-> RemoteAddress:Port",)):
        return True
    words = s.split()
    if len(words) < 2 or s.startswith(CONN_HEADS) or CONN_ENTRY.match(s):
        return False
    if words[0] in _PROTOS:
        return _ADDR.match(words[1]) is not None or is_cut_name(words[1])
    if words[0] == "FWM":  # (a mark: ipvsadm's %d, or /proc/net/ip_vs's %08X)
        return words[1].isdigit() or _PROC_MARK.fullmatch(words[1]) is not None
    if words[0] == "->":
        return _ADDR.match(words[1]) is not None
    return words[0] in ("-A", "-a") and words[1] in _RULE_PROTO


def is_cut_name(word: str) -> bool:
    """A host name `ipvsadm -l` cut to its 28 characters, the port gone with the rest."""
    return len(word) == CUT_WIDTH and CUT_NAME.match(word) is not None


def looks_like_ipvsadm(text: str) -> bool:
    """True for ipvsadm -L/-Ln (any of --stats/--rate), -Sn output, or lines cut from them.

    Other commands' output may come first (``# kubectl describe svc``, ``# ip addr`` in a
    blog's code block): they are skipped until an ipvsadm title, or a virtual server line with
    its real server under it. A rule dump of another tool stops the search.
    """
    lines = [ln.strip() for ln in text.splitlines()[:400]]
    for i, s in enumerate(lines):
        if not s or s.startswith("#"):
            continue
        if _VERSION.match(s) or s.startswith(HEADS):
            return True
        words = s.split()
        if words[0] in ("-A", "-a") and len(words) >= 2:
            return words[1] in _RULE_PROTO
        if is_listing_line(s) and words[0] != "->":
            after = next((t for t in lines[i + 1:] if t and not t.startswith("#")), "")
            # one header-less virtual server line is enough when nothing else follows it
            return after.startswith("->") or is_listing_line(after) or not after
        if _OTHER_DUMPS.match(s):
            return False
    return False

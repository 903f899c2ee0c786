"""Turn raw dumps into models: detect each dump's format, then hand it to its parser."""

from __future__ import annotations

import json
import re

from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.parse.iptables_list import looks_like_iptables_list
from kubectl_svcpath.parse.iptables_save import looks_like_iptables_save

# `nft list table …` / `nft list ruleset`, or the transaction form kube-proxy's tests use
_NFT_TEXT = re.compile(r"^\s*(?:table (?:ip|ip6|inet|arp|bridge|netdev) \S+ \{|add (?:table|chain|rule|map|set|element) )", re.M)
# ipvsadm -Ln [--stats|--rate]: its banner or its column header, or a virtual server line
_IPVSADM = re.compile(r"^(?:IP Virtual Server version|Prot LocalAddress:Port)|^(?:TCP|UDP|SCTP)\s+\S+:\d+\s+(?:rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|mh)\b", re.M)
# conntrack -L: "tcp      6 86395 ESTABLISHED src=…" (or with an "ipv4     2" family prefix)
_CONNTRACK = re.compile(r"^(?:ipv[46]\s+\d+\s+)?(?:tcp|udp|sctp)\s+\d+\s+\d+\s+.*\bsrc=\S+ dst=\S+", re.M)


def detect_format(text: str, source: str) -> str:
    """One of dump.FORMATS, from the content alone; BadDump when it is none of them."""
    if "\x00" in text[:65536]:
        raise BadDump(source, "binary data, not a text rule dump",
                      hint="pass the text output of iptables-save, nft -j list table …, or ipvsadm -Ln")
    head = text.lstrip()[:65536]
    if head.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise BadDump(source, f"JSON that cannot be read ({e.msg} at line {e.lineno})", e.lineno) from None
        if isinstance(doc, dict) and "nftables" in doc:
            return "nft-json"
        raise BadDump(source, "JSON, but not `nft -j` output (no top-level \"nftables\" key)")
    if _NFT_TEXT.search(head):
        return "nft-text"
    if _IPVSADM.search(head):
        return "ipvsadm"
    if _CONNTRACK.search(head):
        return "conntrack"
    if looks_like_iptables_list(head):
        return "iptables-list"
    if looks_like_iptables_save(head):
        return "iptables-save"
    raise BadDump(source, "not a rule dump this tool can read",
                  hint="expected iptables-save output, '-A' rule lines, 'iptables -t nat -L -n -v', nft list/JSON, or ipvsadm -Ln")


def dump_format(dump: RuleDump) -> str:
    return dump.format or detect_format(dump.text, dump.source)

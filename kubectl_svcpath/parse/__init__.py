"""Turn raw dumps into models: detect each dump's format, then hand it to its parser."""

from __future__ import annotations

from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.errors import BadDump


def detect_format(text: str, source: str) -> str:
    """One of dump.FORMATS, from the content alone; BadDump when it is none of them.

    Only the start of the text is looked at: a 35 MB dump is parsed once, by its parser.
    """
    # imported here: the modes' parsers import parse.tokens, which imports this package
    from kubectl_svcpath.modes.iptables.parse_list import looks_like_iptables_list
    from kubectl_svcpath.modes.iptables.parse_save import looks_like_iptables_save
    from kubectl_svcpath.modes.ipvs import parse as ipvsadm
    from kubectl_svcpath.modes.nftables import parse_json as nft_json
    from kubectl_svcpath.modes.nftables import parse_text as nft_text
    from kubectl_svcpath.parse import conntrack

    head = text[:65536]
    if "\x00" in head:
        raise BadDump(source, "binary data, not a text rule dump",
                      hint="pass the text output of iptables-save, nft -j list table …, or ipvsadm -Ln")
    if head.lstrip().startswith(("{", "[")):
        if nft_json.looks_like_nft_json(head):
            return "nft-json"
        raise BadDump(source, "JSON, but not `nft -j` output (it must start with {\"nftables\": …})",
                      hint="for nftables pass `nft -j list table ip kube-proxy`; manifests go to --manifest")
    if nft_text.looks_like_nft_text(head):
        return "nft-text"
    if ipvsadm.looks_like_ipvsadm(head):
        return "ipvsadm"
    if conntrack.looks_like_conntrack(head):
        return "conntrack"
    if looks_like_iptables_list(head):
        return "iptables-list"
    if looks_like_iptables_save(head):
        return "iptables-save"
    raise BadDump(source, "not a rule dump this tool can read",
                  hint="expected iptables-save output, '-A' rule lines, 'iptables -t nat -L -n -v', nft list/JSON, ipvsadm -Ln or conntrack -L")


def dump_format(dump: RuleDump) -> str:
    return dump.format or detect_format(dump.text, dump.source)

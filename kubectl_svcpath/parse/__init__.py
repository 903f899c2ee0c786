"""Turn raw dumps into models: detect each dump's format, then hand it to its parser."""

from __future__ import annotations

import re

from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.errors import BadDump


_COUNTED_RULE = re.compile(r"\[\d+:\d+\]\s+-[AI]\s")


def detect_format(text: str, source: str) -> str:
    """The name of the registry's input form this text is in; BadDump when it is none of them.

    Only the start of the text is looked at: a 35 MB dump is parsed once, by its parser.
    """
    # imported here: the modes' parsers import parse.tokens, which imports this package
    from kubectl_svcpath.modes.registry import FORMS

    head = text[:65536].removeprefix("\ufeff")
    if "\x00" in head:
        raise BadDump(source, "binary data, not a text rule dump",
                      hint="pass the text output of iptables-save, nft -j list table …, or ipvsadm -Ln")
    # "[102:8638] -A KUBE-SEP-…": iptables-save -c rule lines without their table header, not JSON
    is_json = head.lstrip().startswith(("{", "[")) and not _COUNTED_RULE.match(head.lstrip())
    for form in FORMS:
        if form.json == is_json and form.looks_like(head):
            return form.name
    body = text.removeprefix("\ufeff")
    if not body or body.isspace():  # (said apart: the listing command printed nothing; isspace stops at a character)
        raise BadDump(source, "empty: no rules in it" if not body else "holds only blank lines: no rules in it",
                      hint="the command that wrote it printed nothing; run it again as root, e.g. sudo iptables-save -c > FILE")
    if is_json:
        raise BadDump(source, "JSON, but not `nft -j` output (it must start with {\"nftables\": …})",
                      hint="for nftables pass `nft -j list table ip kube-proxy`; manifests go to --manifest")
    raise BadDump(source, "not a rule dump this tool can read",
                  hint="expected iptables-save output, '-A' rule lines, 'iptables -t nat -L -n -v', nft list/JSON, ipvsadm -Ln or conntrack -L")


def dump_format(dump: RuleDump) -> str:
    return dump.format or detect_format(dump.text, dump.source)

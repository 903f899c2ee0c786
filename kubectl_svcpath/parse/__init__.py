"""Which of the registry's input forms a raw dump is in (``detect_format``, ``dump_format``), or one BadDump
saying why it is none (empty, other JSON, a command pasted without its output, ``ipvsadm -Lnc`` entries).
Each form's reader is its mode's (``modes/registry.py`` FORMS); the package's modules hold what belongs to no mode
(``conntrack -L``, a pasted ``kubectl describe``, several hosts' lines, a paste's cuts and notes, rule tokens)."""

from __future__ import annotations

import re

from kubectl_svcpath.dump import RuleDump
from kubectl_svcpath.errors import BadDump


_COUNTED_RULE = re.compile(r"\[\d+:\d+\]\s+-[AI]\s")


_CONTENT = re.compile(r"[^\s]")


def _head(text: str) -> str:
    """The first 64 KiB from the first line that is not blank: one host's part of a paste of several (parse/hosts.py)
    keeps the other hosts' lines as blank lines, which may fill the first 64 KiB."""
    if not text[:1].isspace():
        return text[:65536]
    first = _CONTENT.search(text)
    start = text.rfind("\n", 0, first.start()) + 1 if first is not None else 0
    return text[start:start + 65536]


def detect_format(text: str, source: str) -> str:
    """The name of the registry's input form this text is in; BadDump when it is none of them.

    Only the start of the text is looked at: a 35 MB dump is parsed once, by its parser.
    """
    # imported here: the modes' parsers import parse.tokens, which imports this package
    from kubectl_svcpath.modes.registry import FORMS

    head = _head(text).removeprefix("\ufeff")
    if "\x00" in head:
        raise BadDump(source, "binary data, not a text rule dump",
                      hint="pass the text output of iptables-save, nft -j list table …, or ipvsadm -Ln")
    # "[102:8638] -A KUBE-SEP-…": iptables-save -c rule lines without their table header, not JSON
    bare = head.lstrip()
    while bare.startswith("#") and "\n" in bare:  # (a command's prompt line the paste cleaner commented out, above JSON)
        bare = bare[bare.index("\n") + 1:].lstrip()
    is_json = bare.startswith(("{", "[")) and not _COUNTED_RULE.match(bare)
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
    from kubectl_svcpath.parse.excerpt import commands_without_output  # (a text no reader takes: a paste)

    ran = commands_without_output(body)
    if ran is not None:
        raise _command_only(source, *ran)
    if connection_entries(head):
        raise BadDump(source, "`ipvsadm -Lnc` connection entries only: they are the connections open now, not the "
                      "virtual server table", hint="pass `ipvsadm -Ln` output from the node (and `ipvsadm -Ln --stats "
                      "--exact` for counters)")
    if _MANIFEST.search(head) and _KIND.search(head):  # the two files swapped: kubectl get … -o yaml
        raise BadDump(source, "a Kubernetes manifest (apiVersion, kind), not a rule dump",
                      hint="pass it with --manifest; --rules-file takes iptables-save, nft list or ipvsadm -Ln output")
    refused = _NFT_ERROR.search(head)
    if refused is not None:
        said = refused.group(2).strip()
        said = said if len(said) <= 80 else said[:80] + "…"
        raise BadDump(source, f"nft's errors for the input kube-proxy gave it (its line {refused.group(1)}: '{said}'): the "
                      "rules nft refused to add, not the rules the node holds",
                      hint="kube-proxy could not write its nftables rules (a kernel module or nft feature missing: its log "
                      "says which); to see what the node holds, pass: sudo nft list table ip kube-proxy")
    if _NFT_RULE.search(head) and not _NFT_BLOCK.search(head):
        raise BadDump(source, "nft rule lines of kube-proxy's without the chain block they are in (its 'chain … {' line): "
                      "which chain each is in, and so which Service port and what leads to it, is not in the input",
                      hint="pass the chain with its header, e.g. sudo nft list chain ip kube-proxy service-…, or the whole "
                      "table: sudo nft list table ip kube-proxy")
    cilium = cilium_listing(head)
    if cilium is not None:
        raise BadDump(source, f"`{cilium}` output: Cilium's own load-balancing table (eBPF maps), not kube-proxy's rules",
                      hint="where kube-proxy runs beside Cilium, pass its rules from the node: sudo iptables-save -c (or "
                      "nft list table ip kube-proxy, ipvsadm -Ln); where Cilium replaces kube-proxy there are none, and "
                      "that listing is where its Services are")
    raise BadDump(source, "not a rule dump this tool can read",
                  hint="expected iptables-save output, '-A' rule lines, 'iptables -t nat -L -n -v', nft list/JSON, ipvsadm -Ln or conntrack -L")


_MANIFEST = re.compile(r"^(?:- )?apiVersion: \S", re.M)
_KIND = re.compile(r"^\s*(?:- )?kind: [A-Z]\w*\s*$", re.M)
# nft's error for a line of the input kube-proxy fed it (its log: "/dev/stdin:892:87-100: Error: Could not process rule: …")
_NFT_ERROR = re.compile(r"/dev/stdin:(\d+):\d+(?:-\d+)?: Error: ([^\n]*)")
# a rule of kube-proxy's nftables table as nft lists it (inside a chain block), and a block's first line
_NFT_RULE = re.compile(r"^\s*(?:ip6? (?:daddr|saddr) .*jump mark-for-masquerade|numgen random mod \d+ vmap \{.*goto endpoint-"
                       r"|meta l4proto (?:tcp|udp|sctp) dnat to )", re.M)
_NFT_BLOCK = re.compile(r"^\s*(?:table|chain|map|set)\s+\S.*\{", re.M)
# Cilium's listings of its own Service table: `cilium(-dbg) service list` ("ID   Frontend   Service Type   Backend", the ID
# column gone since 1.15) and `cilium(-dbg) bpf lb list` ("SERVICE ADDRESS   BACKEND ADDRESS (REVNAT_ID) (SLOT)")
_CILIUM_HEADS = (
    (re.compile(r"^[ \t]*(?:ID[ \t]+)?Frontend[ \t]+Service Type[ \t]+Backend[ \t\r]*$", re.M), "cilium service list"),
    (re.compile(r"^[ \t]*SERVICE ADDRESS[ \t]+BACKEND ADDRESS\b", re.M), "cilium bpf lb list"),
)


def cilium_listing(text: str) -> str | None:
    """The Cilium command whose listing the text holds (its header line), or None."""
    if "Frontend" not in text and "SERVICE ADDRESS" not in text:
        return None
    return next((name for pattern, name in _CILIUM_HEADS if pattern.search(text)), None)


def connection_entries(text: str) -> bool:
    """``ipvsadm -Lnc`` output in the first 64 KiB: the connections open now (no form reads it alone)."""
    head = _head(text)
    return "IPVS connection entries" in head or "pro expire state" in head


def dump_format(dump: RuleDump) -> str:
    return dump.format or detect_format(dump.text, dump.source)


# what to run instead, by the tool a pasted command names (the first that matches)
_RUN_INSTEAD = (
    ("ipvsadm", "sudo ipvsadm -Ln > ipvs.txt and sudo iptables-save -c > rules.txt, then --rules-file each"),
    ("nft", "sudo nft list ruleset > rules.txt, then --rules-file rules.txt"),
    ("ip6tables", "sudo ip6tables-save -c > rules.txt, then --rules-file rules.txt"),
    ("", "sudo iptables-save -c > rules.txt (every table, with counters), then --rules-file rules.txt"),
)


def _command_only(source: str, commands: list[str], errors: list[str], ended: bool) -> BadDump:
    """A paste of the listing command without its output: say so, and what to run and pass instead."""
    shown = commands[0] if len(commands[0]) <= 80 else commands[0][:80] + "…"
    more = f" (and {len(commands) - 1} more command{'s' if len(commands) > 2 else ''})" if len(commands) > 1 else ""
    instead = next(run for tool, run in _RUN_INSTEAD if tool in commands[0])
    if errors:
        failed = errors[0] if len(errors[0]) <= 120 else errors[0][:120] + "…"
        return BadDump(source, f"holds the command `{shown}`{more} and its error ({failed}), no rules",
                       hint=f"run it again as root on the node and pass what it prints, e.g. {instead}")
    if ended:  # the shell's prompt right after it: the command printed nothing (a grep that matched no rule)
        return BadDump(source, f"holds the command `{shown}`{more} and the prompt after it, nothing between: it printed no rules",
                       hint=f"a grep that matches no rule prints nothing; to see what the node holds, pass its rules: {instead}")
    return BadDump(source, f"holds the command `{shown}`{more} but not its output: no rules in it",
                   hint=f"run it on the node and pass what it prints, e.g. {instead}")

"""What the edges hand to the core: raw rule dumps with where they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The formats a dump can be in are the input forms of modes/registry.py (FORMS); parse.detect_format()
# tells them apart from the content.


@dataclass(frozen=True, slots=True)
class RuleDump:
    text: str
    source: str  # what errors and evidence cite: a path, or "pod/kube-proxy-x: iptables-save -c"
    format: str | None = None  # the name of one of registry.FORMS; None = detect from the content
    kind: str = "file"  # "file" | "pod" | "local" | "example"
    # what the reading command said besides the dump (kind "local"/"pod"): iptables-nft-save prints
    # "# Warning: iptables-legacy tables present…" and "Parsing nftables rule failed" here, not in the text
    stderr: str = ""
    returncode: int | None = None  # the command's exit status; None for files
    elisions: tuple[int, ...] = ()  # lines where the author cut ("...", "[snip]"), blanked by parse/excerpt.py
    listings: tuple[str, ...] = ()  # the listing commands pasted above the output ("iptables-save | grep web")
    marks_note: str | None = None  # what reading it off a diff's marks left out (parse/quoted.py)
    left_out_note: str | None = None  # the note on other commands' output the cleaner left out (pipeline.cleaned)
    whole_chains: tuple[str, ...] = ()  # a diff of two iptables-save dumps: the chains new in the later one, shown whole
    # kube-proxy's logged restore input read: its log line saying that restore failed ("file:line  text"), if any
    restore_failed: str | None = None
    # the IPv6 family's lines beside iptables output, left out (parse/excerpt.py): (first, last) of each run
    other_family: tuple[tuple[int, int], ...] = ()
    clean: bool = False  # parse/excerpt.py found nothing to blank in text: no reader need look again
    save_lines: bool = False  # and every line but the first has one of iptables-save's shapes (excerpt.Cleaned)
    # what read ``text`` piece by piece while the command wrote it (live: parse_save.SaveFeed), for the
    # dump's reader to take up; a reader checks that it saw this very text (not one changed since)
    feed: Any = None


@dataclass(slots=True)
class Collection:
    """Everything the edges gathered for one node: the dumps and the facts around them."""

    dumps: list[RuleDump]
    # rules read structurally (python-iptables on a legacy backend): rules.RuleSet objects, no text to parse
    rulesets: list[Any] = field(default_factory=list)
    node: str | None = None
    pod: str | None = None  # the kube-proxy pod the rules were read in
    proxy_mode: str | None = None  # from kube-proxy's config; None: detect from the dumps
    proxy_mode_source: str | None = None  # where proxy_mode came from ("ConfigMap kube-system/kube-proxy")
    writer_version: str | None = None  # `iptables --version` where kube-proxy runs, e.g. "iptables v1.8.9 (nf_tables)"
    reader_version: str | None = None  # `iptables --version` of the tool that printed the dump, if different
    backend: str | None = None  # "nf_tables" | "legacy": which backend holds kube-proxy's rules
    other_backend_rules: bool = False  # the other backend also holds KUBE-* rules (mixed backends)
    # how the backend was chosen and what each backend holds, one fact per line (collect/local.py),
    # e.g. "KUBE-IPTABLES-HINT in iptables-nft (ip mangle)", "iptables-legacy nat: KUBE-SERVICES, 2 rules"
    backend_evidence: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts the edge learnt that belong in the report
    # one paste of several nodes, read per node (pipeline.split_nodes): what --all says of it, once
    paste_nodes: str | None = None
    collected_at: str | None = None  # when the edge read the rules (ISO 8601, UTC); None for files
    # the Node object of the node read (live: GET node; offline: a Node in --manifest), as API JSON
    node_object: dict[str, Any] | None = None
    node_object_source: str | None = None  # "node" (read live) | "manifest"
    # kube-proxy's nodePortAddresses from its configuration (None: not known)
    node_port_addresses: tuple[str, ...] | None = None

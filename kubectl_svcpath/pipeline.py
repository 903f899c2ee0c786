"""parse -> correlate -> diagnose, for one Service or all of them. Pure: golden tests start here.

Offline files, the local node and a live cluster differ only in how the Collection was
gathered; everything from here on is the same code.
"""

from __future__ import annotations

import re

from kubectl_svcpath.analysis import Analysis
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from dataclasses import replace

from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.findings import expected as expected_findings
from kubectl_svcpath.errors import BadDump, SvcpathError
from kubectl_svcpath.findings.generic import diagnose
from kubectl_svcpath.modes import registry
from kubectl_svcpath.modes.base import Mode, Parsed, ProxyMode
from kubectl_svcpath.parse import connection_entries, dump_format
from kubectl_svcpath.parse.ipaddr import kube_ipvs0, only_ip_addr
from kubectl_svcpath.parse.quoted import unquote
from kubectl_svcpath.parse.prompts import head_commands
from kubectl_svcpath.path import PortPath
from kubectl_svcpath.report import Report, RulesNotRead
from kubectl_svcpath.snapshot import ServiceSnapshot
from kubectl_svcpath.wording import line_spans, listed, numbered

if TYPE_CHECKING:  # (parse/hosts and parse/describe load for a paste: a tool's own output needs neither)
    from kubectl_svcpath.parse.hosts import HostPart

__all__ = ["Parsed", "analyse", "audit_lines", "correlate", "detect_mode", "each_service", "infer_services", "input_notes",
           "parse_collection", "split_nodes"]


def parse_collection(collection: Collection, lenient: bool = False) -> Parsed:
    parsed = Parsed()
    registry.read_structured(parsed, collection.rulesets)
    for dump in collection.dumps:
        if dump.kind != "pod":  # a listing the plugin ran in kube-proxy's pod is no paste: nothing to cut or set aside
            dump = _uncolored(dump, parsed.left_out)
            _bound(parsed, dump)
            described = _described(parsed, dump)
            if described is not dump and described.text.isspace():  # a file of `kubectl describe service` alone
                if len(collection.dumps) > 1:
                    continue  # (read as what the Service shows, for the other files' rules)
                raise _description_alone(dump.source)
            dump = cleaned(described, parsed.left_out)
            if dump.marks_note is not None:
                parsed.left_out.append(dump.marks_note)
            if dump.restore_failed is not None:
                parsed.restore_failed.append(dump.restore_failed)
            if dump.other_family:
                parsed.other_family[dump.source] = list(dump.other_family)
        if dump.elisions:
            parsed.elisions[dump.source] = list(dump.elisions)
        # (a text whose every line has iptables-save's shapes holds no -L listing: no pass over a big dump for it)
        forms = _split_forms(dump.text) if dump.kind != "pod" and not dump.save_lines else None
        for part in [replace(dump, text=text) for text in forms] if forms else [dump]:
            try:
                form = registry.form(dump_format(part))
            except BadDump:
                aside = _beside_a_table(part, collection)
                if aside is None:
                    _ip_addr_alone(next((d for d in collection.dumps if d.source == part.source), part))
                    raise
                if dump.left_out_note in parsed.left_out:  # (the same lines, said left out: read for kube-ipvs0's addresses)
                    parsed.left_out.remove(dump.left_out_note)
                parsed.left_out.append(aside)
                continue
            form.read(parsed, part, lenient)
        if dump.whole_chains and parsed.rules is not None:
            parsed.rules.whole_chains(dump.whole_chains)
    if parsed.ipvs is not None:
        parsed.ipvs.bound = {b.address: b for b in parsed.bound}
    parsed.mode = detect_mode(parsed, collection)
    _stamp_sources(parsed, collection)
    return parsed


def _split_forms(text: str) -> list[str] | None:
    from kubectl_svcpath.parse.excerpt import split_forms

    return split_forms(text)


def _beside_a_table(part: RuleDump, collection: Collection) -> str | None:
    """The note for a file of no rules passed with rule files, set aside: ``ipvsadm -Lnc`` connection entries, or
    ``ip addr`` output (its kube-ipvs0 addresses read: _bound). None: refused (alone, or not of these)."""
    def aside(d: RuleDump) -> bool:
        return connection_entries(d.text) or only_ip_addr(d.text)

    raw = next((d for d in collection.dumps if d.source == part.source), part)  # (as given: not as cleaned)
    if not aside(raw) or all(aside(d) for d in collection.dumps if d.source != part.source):
        return None
    if connection_entries(raw.text):
        return (f"{part.source}: `ipvsadm -Lnc` connection entries only (the connections open now), not read: each real "
                "server's ActiveConn/InActConn (ipvsadm -Ln) counts them")
    return f"{part.source}: `ip addr` output, no rules: read for the addresses kube-proxy bound to kube-ipvs0"


def _ip_addr_alone(dump: RuleDump) -> None:
    """BadDump that says what a file of `ip addr` output (or of `kubectl describe service`) is, when it is read with
    no rule listing."""
    if only_ip_addr(dump.text):
        raise BadDump(dump.source, "`ip addr` output only: the addresses on kube-ipvs0, not the rules",
                      hint="pass it beside `ipvsadm -Ln` output from the node (each with --rules-file)") from None
    if len(dump.text) < _IP_ADDR_MOST and "Name:" in dump.text:
        from kubectl_svcpath.parse import describe

        text, found = describe.split_described(dump.text, dump.source)
        if found and (not text or text.isspace()):
            raise _description_alone(dump.source) from None


def _description_alone(source: str) -> BadDump:
    return BadDump(source, "holds `kubectl describe service` output and no rules",
                   hint="pass it beside the node's rules (iptables-save -c, nft list table ip kube-proxy or ipvsadm -Ln), "
                        "each with --rules-file")


def _bound(parsed: Parsed, dump: RuleDump) -> None:
    """The addresses an `ip addr` listing in a pasted file shows on kube-ipvs0 (IPVS mode binds Service addresses
    there). Not looked for in a big dump (an iptables-save of 35 MB holds no such listing worth a pass over it)."""
    if dump.kind == "file" and len(dump.text) < _IP_ADDR_MOST and "kube-ipvs0" in dump.text:
        parsed.bound.extend(kube_ipvs0(dump.text, dump.source))


_IP_ADDR_MOST = 4 << 20


def split_nodes(collection: Collection) -> list[Collection]:
    """One Collection per node when a pasted file holds several nodes' tables: several hosts' lines told apart
    by host (pdsh's "node1: " prefixes, ansible's headers, prompts: parse/hosts.py), or several nodes' ipvsadm
    listings that differ. A node the user named with --node: that host's lines only. The Collection itself
    otherwise (one node)."""
    if collection.rulesets:
        return [collection]
    collection = _unquoted(collection)
    if len(collection.dumps) != 1:
        return [replace(collection, dumps=[_one_host(collection, dump) for dump in collection.dumps])]
    dump = collection.dumps[0]
    plain = cleaned(dump)
    hosts = _host_parts(dump, plain)
    if hosts:
        return _host_collections(collection, dump, hosts)
    try:
        form = registry.form(dump_format(plain))
    except BadDump:
        _ip_addr_alone(dump)
        raise
    parts = form.split(dump.text, dump.source) if form.split is not None else []
    if len(parts) < 2:  # one node; a dump found clean is handed on as such (a 35 MB look is ~0.1 s)
        return [replace(collection, dumps=[plain]) if plain.clean else collection]
    if collection.node:  # the node the user named: its listing alone
        chosen = [text for node, text in parts if _same_host(node, collection.node)]
        if not chosen:
            raise BadDump(dump.source, f"node {collection.node} is none of the {len(parts)} nodes whose listings it holds "
                          f"({listed([node for node, _ in parts])})", hint=_which_node(collection.node, [node for node, _ in parts]))
        return [replace(collection, dumps=[replace(dump, text=chosen[0])])]
    said = f"{dump.source} holds {len(parts)} nodes' tables that differ ({', '.join(node for node, _ in parts)})"
    return [replace(collection, dumps=[replace(dump, text=text)], node=node, paste_nodes=said, notes=[
        *collection.notes, f"{dump.source} holds {len(parts)} nodes' tables that differ: this report is {node}'s "
        f"(its listing only; the others' lines are read in their own reports)"]) for node, text in parts]


def _unquoted(collection: Collection) -> Collection:
    """The pasted files read off a diff's or a quote's marks (parse/quoted.py), a diff's note on what it leaves out kept."""
    dumps = [_unquoted_dump(dump) for dump in collection.dumps]
    return collection if dumps == collection.dumps else replace(collection, dumps=dumps)


def _unquoted_dump(dump: RuleDump) -> RuleDump:
    read = unquote(dump.text, dump.source) if dump.kind == "file" else None
    return dump if read is None else replace(dump, text=read.text, marks_note=read.note, whole_chains=read.whole_chains)


def _host_parts(dump: RuleDump, plain: RuleDump) -> list[HostPart]:
    """parse/hosts.host_parts of a pasted file; never of a tool's own output (no line of it can name a host)."""
    if dump.kind != "file" or plain.feed is not None:
        return []
    from kubectl_svcpath.parse.hosts import NotSplit, host_parts

    try:
        return host_parts(dump.text, prompts=plain.text is not dump.text, save_lines=plain.save_lines)
    except NotSplit as e:
        who = "pod" if e.pods else "host"
        hosts = listed(e.hosts) if not any(c in w for w in e.hosts for c in "$`{*") else f"each {who} of `{' '.join(e.hosts)}`"
        how = ("one `kubectl exec` per pod, each under its own prompt, or echo each pod's name before its output; --node POD "
               "then reads one" if e.pods else
               "pdsh -w node1,node2 '…' puts the host before each line; --node HOST then reads one")
        raise BadDump(dump.source, f"`{e.command[:80]}` lists the rules of {hosts}, one after the other, and its "
                      "output does not say which lines are whose", e.line,
                      hint=f"paste one {who}'s output per file, or let each {who}'s lines say whose they are ({how})") from None


def _host_collections(collection: Collection, dump: RuleDump, hosts: list[HostPart]) -> list[Collection]:
    """Each host's Collection (its node named so), or the one host --node names; a single host's prefixed lines
    are that host's without the prefixes (the node not named: a prefix's host need not be the node's name)."""
    if len(hosts) == 1 and hosts[0].pod:  # a pod `kubectl exec` ran in: "read in pod …" (--node POD: that pod, no node)
        node = None if collection.node and _same_host(hosts[0].host, collection.node) else collection.node
        return [replace(collection, dumps=[replace(dump, text=hosts[0].text)], node=node, pod=hosts[0].host)]
    if len(hosts) == 1:
        return [replace(collection, dumps=[replace(dump, text=hosts[0].text)])]
    names = listed([h.host for h in hosts])
    how, noun = hosts[0].how, "pods" if all(h.pod for h in hosts) else "hosts"
    if collection.node:
        chosen = [h for h in hosts if _same_host(h.host, collection.node)]
        if not chosen:
            raise BadDump(dump.source, f"node {collection.node} is none of the {len(hosts)} {noun} whose rules it holds ({names})",
                          hint=_which_node(collection.node, [h.host for h in hosts]))
        h = chosen[0]
        return [_of_host(collection, dump, h, collection.node, None, f"{dump.source} holds the rules of {len(hosts)} {noun} "
                         f"({names}, told apart by {how}): {h.host}'s lines ({line_spans(h.lines)}) are read, the others' left out")]
    said = f"{dump.source} holds the rules of {len(hosts)} {noun} ({names}, told apart by {how})"
    return [_of_host(collection, dump, h, h.host, said, f"{said}: this report is {h.host}'s (its lines {line_spans(h.lines)}); "
                     f"--node {h.host} reads it alone") for h in hosts]


def _which_node(wanted: str, names: list[str]) -> str:
    """The hint for a --node the paste holds no host of: the host whose name holds the one typed (a short name,
    "vmss000002" for "aks-npuser-11270689-vmss000002"), else the closest, else the first; never another host's name
    as if it were the one meant."""
    from kubectl_svcpath.held import close_only

    near = [n for n in names if wanted.lower() in n.lower()] or close_only(wanted, names)
    if len(near) == 1:
        return f"did you mean --node {near[0]}?"
    return f"pass --node with one of them: --node {(near or names)[0]}"


def _of_host(collection: Collection, dump: RuleDump, host: HostPart, node: str | None, said: str | None, note: str) -> Collection:
    """A host's Collection: its lines, its node; for a pod `kubectl exec` ran in, no node and that pod (the paste does not
    say which node the pod is on)."""
    return replace(collection, dumps=[replace(dump, text=host.text)], node=None if host.pod else node,
                   pod=host.host if host.pod else collection.pod, paste_nodes=said or collection.paste_nodes,
                   notes=[*collection.notes, note])


def _one_host(collection: Collection, dump: RuleDump) -> RuleDump:
    """One of several files of one node: a file of several hosts' lines is read for the host --node names, else
    refused (read with the others, its hosts' rules would be one node's); a single host's prefixes are taken off."""
    plain = cleaned(dump)
    hosts = _host_parts(dump, plain)
    if not hosts:
        return plain if plain.clean else dump
    if len(hosts) == 1:
        return replace(dump, text=hosts[0].text)
    chosen = [h for h in hosts if collection.node and _same_host(h.host, collection.node)]
    if not chosen:
        raise BadDump(dump.source, f"holds the rules of {len(hosts)} {'pods' if all(h.pod for h in hosts) else 'hosts'} "
                      f"({listed([h.host for h in hosts])}, told apart by "
                      f"{hosts[0].how}), and the files are read as one node's",
                      hint=f"pass --node {hosts[0].host} to read that host's lines, or this file alone: each host then gets its own report")
    if chosen[0].pod:
        collection.node, collection.pod = None, chosen[0].host
    collection.notes.append(f"{dump.source} holds the rules of {len(hosts)} hosts: {chosen[0].host}'s lines "
                            f"({line_spans(chosen[0].lines)}) are read, the others' left out")
    return replace(dump, text=chosen[0].text)


def _same_host(host: str, node: str) -> bool:
    """A prompt's or prefix's host and a node name: the same, or one the other's first label (node1, node1.lan)."""
    return host == node or host.split(".")[0] == node or node.split(".")[0] == host


def _stamp_sources(parsed: Parsed, collection: Collection) -> None:
    """collectedAt per source: when the edge read it, else a dump's own '# Generated … on' line."""
    from kubectl_svcpath.dump import dump_time

    texts = {d.source: d.text for d in collection.dumps}
    for s in parsed.sources:
        s.collected_at = collection.collected_at or (dump_time(texts[s.source]) if s.source in texts else None)


def detect_mode(parsed: Parsed, collection: Collection) -> Mode:
    """The mode kube-proxy declared (its ConfigMap, --proxy-mode), else the first the input shows."""
    declared = (collection.proxy_mode or "").strip().lower()
    if declared:
        mode = registry.mode(declared)
        source = collection.proxy_mode_source or "--proxy-mode"
        # kube-proxy's configuration or flag, read live, against its pod's tables (the user's --proxy-mode is taken)
        instead = _runs_instead(mode, parsed) if collection.pod is not None and source != "--proxy-mode" else None
        if instead is not None:
            collection.notes.append(f'{source} says proxy mode "{declared}", but the node\'s {declared} rules hold no Service '
                                    f"and its {instead.value} rules do: read as {instead.value} mode (kube-proxy takes its "
                                    "mode when it starts: a pod started before the configuration changed keeps its own)")
            return instead
        if not mode.shown_by(parsed):
            files = list(dict.fromkeys(s.source for s in parsed.sources))  # (several: each named, not "the input:")
            where = listed(files) if 0 < len(files) <= 3 else f"the {len(files)} rule files" if files else "input"
            raise BadDump(where, f'proxy mode "{declared}" ({source}) does not match {"them" if len(files) > 1 else "it"}: '
                                 f"{_what_it_holds(parsed)}",
                          hint="leave --proxy-mode out to use what the input shows, or pass the listing of that mode"
                          if source == "--proxy-mode" else
                          "kube-proxy on this node may run another mode than that: --proxy-mode MODE reads that mode's listings")
        return mode.name
    for m in registry.MODES:
        if m.shown_by(parsed):
            return m.name
    for m in registry.MODES:
        if m.not_shown is not None:
            m.not_shown(parsed)
    if parsed.conntrack is not None:  # (a conntrack listing alone: flows to count, no rule to follow)
        raise BadDump(parsed.conntrack.source, "`conntrack -L` flows only: they count connections beside the node's "
                      "rules, and show no rule a packet follows",
                      hint="pass the node's rules too: --rules-file RULES (iptables-save -c, nft list table ip kube-proxy "
                      "or ipvsadm -Ln) --rules-file FLOWS")
    raise BadDump("input", "no rules given")


def _runs_instead(declared: ProxyMode, parsed: Parsed) -> Mode | None:
    """The mode the input shows Services in, when the declared one's table holds none (kube-proxy's configuration
    names a mode its pod does not run); None when the declared mode's table holds Services or is not whole."""
    if declared.holds_no_service is None or not declared.holds_no_service(parsed):
        return None
    for other in registry.MODES:
        if other is declared:
            continue
        try:
            if other.shown_by(parsed) and not (other.holds_no_service is not None and other.holds_no_service(parsed)):
                return other.name
        except SvcpathError:  # (rules of yet another mode: no answer here)
            continue
    return None


_FORM_WORDS = {"nft-json": "nft -j output", "nft-text": "nft list output", "ipvsadm": "ipvsadm -Ln output",
               "conntrack": "a conntrack listing", "iptables-list": "iptables -L output"}


def _what_it_holds(parsed: Parsed) -> str:
    """'ipvsadm -Ln output (proxy mode ipvs)': what the input is, for a --proxy-mode that does not match it."""
    forms = sorted({_FORM_WORDS.get(s.format, "iptables rules") for s in parsed.sources})
    held = []
    for m in registry.MODES:
        try:
            if m.shown_by(parsed):
                held.append(m.name.value)
        except SvcpathError:  # iptables rules of IPVS mode: not enough for either
            continue
    mode = f" (proxy mode {' or '.join(held)})" if held else ""
    return (" and ".join(forms) + mode) if forms else "no rules"


def correlate(snapshot: ServiceSnapshot, parsed: Parsed) -> list[PortPath]:
    return registry.mode(parsed.mode).correlate(snapshot, parsed)


def infer_services(parsed: Parsed, only: tuple[str | None, str] | None = None) -> list[ServiceSnapshot]:
    """Dump-only mode: the Services the rules themselves describe (or just ``only=(ns, name)``)."""
    if parsed.described:  # a pasted description may name what the rules do not: read them all
        from kubectl_svcpath.parse import describe

        return describe.complete(registry.mode(parsed.mode).infer(parsed, None), parsed.described)
    return registry.mode(parsed.mode).infer(parsed, only)


def service_names(parsed: Parsed) -> list[str]:
    """Dump-only mode: NAMESPACE/NAME of each Service the input names; an entry it names none for (IPVS,
    comments cut) as --all labels it ("TCP 10.96.0.10:53"), when no Service is named at all."""
    names_of = registry.mode(parsed.mode).service_names
    names = names_of(parsed) if names_of is not None and not parsed.described else []
    if names:
        return names
    services = infer_services(parsed)
    named = [f"{s.namespace}/{s.name}" for s in services if s.name]
    return named or [s.ports[0].rules_key.split("|")[0] for s in services if s.ports and s.ports[0].rules_key]


def each_service(parsed: Parsed) -> Iterator[ServiceSnapshot]:
    """Dump-only mode, for an audit: every Service the rules describe, one at a time."""
    mode = registry.mode(parsed.mode)
    found = mode.infer_each(parsed) if mode.infer_each is not None else iter(mode.infer(parsed, None))
    if not parsed.described:
        return found
    from kubectl_svcpath.parse import describe

    return iter(describe.complete(found, parsed.described))


def _described(parsed: Parsed, dump: RuleDump) -> RuleDump:
    """`kubectl describe service` output pasted with the rules: read aside, blanked for the rule readers."""
    if (dump.save_lines and not dump.text.startswith("Name:")) or dump.feed is not None:
        return dump  # (no line of iptables-save's shapes is "Name: …"; a tool's output as printed holds no describe)
    from kubectl_svcpath.parse import describe

    text, found = describe.split_described(dump.text, dump.source)
    if not found:
        return dump
    parsed.described.extend(found)
    return replace(dump, text=text)


def audit_lines(parsed: Parsed, one: Callable[[ServiceSnapshot], tuple[Report, Any]],
                keep: Callable[[str], bool]) -> Iterator[Any] | None:
    """Dump-only --all as a table, in one pass when the mode can (None: it cannot for this input).
    ``one``: a Service's full analysis and its audit line; ``keep``: which namespaces to list."""
    mode = registry.mode(parsed.mode)
    return mode.audit_lines(parsed, one, keep) if mode.audit_lines is not None else None


def api_audit_lines(parsed: Parsed, one: Callable[[ServiceSnapshot], tuple[Report, Any]],
                    snapshots: Iterable[ServiceSnapshot], prepared: dict[Any, Any] | None = None) -> Iterator[Any] | None:
    """--all as a table with the Services from the API, in one pass when the mode can (None: it cannot).
    ``prepared``: prepare_api_audit's answer for these snapshots."""
    mode = registry.mode(parsed.mode)
    if mode.api_audit_lines is None:
        return None
    return mode.api_audit_lines(parsed, one, snapshots, (prepared or {}).get(mode.name))


def prepare_api_audit(snapshots: list[ServiceSnapshot]) -> dict[Any, Any]:
    """What each mode's one-pass audit takes from the API objects alone, made before the rules are
    known (live: while the node's rules are read; the mode is not known yet: every mode that has such
    a step makes it, the mode then detected takes its own)."""
    return {m.name: m.api_audit_prepare(snapshots) for m in registry.MODES if m.api_audit_prepare is not None}


def api_only(snapshot: ServiceSnapshot, node: str | None, error: SvcpathError) -> Report:
    """What the API shows when the node's rules could not be read: ports, addresses, EndpointSlices."""
    return Report(service=snapshot, mode="", ports=[PortPath(port=p) for p in snapshot.ports], node=node,
                  rules_not_read=RulesNotRead(error.message, error.hint, int(error.exit_code)))


def analyse(snapshot: ServiceSnapshot, parsed: Parsed, collection: Collection) -> Report:
    paths = correlate(snapshot, parsed)
    touches = registry.mode(parsed.mode).cut_touches
    excerpt = parsed.excerpt or (touches is not None and bool(parsed.placed_cuts) and touches(parsed, snapshot))
    if excerpt:
        for pp in paths:  # a way in the input does not show may exist (the iptables correlator says which)
            if pp.entries_complete and not pp.paths:
                pp.not_in_input.append("entry rule: not in the input (the input is an excerpt)")
            pp.entries_complete = False
            for path in pp.paths:
                if path.verdict == "missing":  # a chain an excerpt does not show is not a missing chain
                    path.verdict = "not-in-input"
                    pp.not_in_input.append(f"{path.policy_chain or path.chains[-1]}: not in the input")
    # expected before observed: what kube-proxy should program on this node, set against the rules
    exps, node_notes = expected_findings.build(snapshot, collection, paths)
    expected_findings.apply(paths, exps)
    analysis = Analysis(snapshot=snapshot, collection=collection, mode=parsed.mode, paths=paths, rules=parsed.rules,
                        nft=[parsed.nft] if parsed.nft is not None else [], ipvs=parsed.ipvs, expectations=exps,
                        restore_failed=list(parsed.restore_failed))
    findings = diagnose(analysis)
    return Report(
        service=snapshot, mode=parsed.mode, ports=paths, findings=findings, node=collection.node, pod=collection.pod,
        backend=collection.backend or (parsed.rules.backend if parsed.rules is not None else None),
        sources=list(parsed.sources), counters=registry.mode(parsed.mode).has_counters(parsed),
        notes=input_notes(parsed, collection, snapshot, paths) + node_notes + expected_findings.notes(analysis),
        excerpt=excerpt, expected=expected_findings.summary(analysis),
    )


# a terminal's control sequences in a pasted transcript: CSI ("\x1b[01;31m\x1b[K" of grep --color=always, a colored
# prompt's) and OSC (a prompt setting the window title, "\x1b]0;user@host: ~\x07")
_TERMINAL_CODES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?")


def _uncolored(dump: RuleDump, notes: list[str]) -> RuleDump:
    """A paste with a terminal's color codes in it (grep --color=always, `script` transcripts): the codes taken out,
    the text between them read (they were read as part of a name: 'default/\x1b[01;31m\x1b[Ktest1…')."""
    if "\x1b" not in dump.text:  # (str.find: C speed on a big dump)
        return dump
    text, n = _TERMINAL_CODES.subn("", dump.text)
    if not n:
        return dump
    lines: list[int] = []  # (counted on from the last code: a count from the start for each was quadratic)
    line, at = 1, 0
    for m in _TERMINAL_CODES.finditer(dump.text):
        line += dump.text.count("\n", at, m.start())
        at = m.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    notes.append(f"{dump.source}: the terminal's color codes (grep --color=always, a colored prompt) taken out of "
                 f"{numbered('line', lines)}: the text between them read")
    return replace(dump, text=text)


def cleaned(dump: RuleDump, notes: list[str] | None = None) -> RuleDump:
    """The dump without a BOM, its elision lines and other commands' output blanked, their line numbers
    kept (parse/excerpt.py); ``notes`` gets a note on the output left out."""
    if dump.clean:
        return dump
    scanned = _own_output(dump)
    if scanned is not None:  # (`ipset list` as printed: its "Members:" lines were commented out as commands)
        return replace(dump, clean=True, save_lines=dump.text.startswith(("#", "*")), feed=scanned, format=dump_format(dump))
    if dump.kind == "local" and dump.format in _AS_PRINTED:
        # a listing --local ran on this node holds no cut, prompt or note of a paste (a pod's is not cleaned at
        # all: parse_collection): looking for them took ~0.2 s of a 10k-Service ipvsadm listing, and read
        # ipset's "Members:" lines as commands
        return replace(dump, clean=True)
    # (a paste: excerpt.py's patterns load for it, not for a tool's own output - _own_output above)
    from kubectl_svcpath.parse.excerpt import (clean, family_note, json_excerpt, left_out_note, marked_note, relisted_note,
                                               repeated_note, rerun_note, restore_log_note, uncommented_note)

    c = clean(dump.text)
    if not c.bom and not c.elisions and not c.commands and not c.dedented and not c.left_out and not c.marked \
            and not c.relisted and not c.repeated and not c.uncommented and not c.reruns and not c.other_family \
            and c.restore_log is None:
        return replace(dump, clean=True, save_lines=c.save_lines, listings=tuple(c.listings))
    if c.restore_log is not None and notes is not None:
        notes.append(restore_log_note(dump.source, c.restore_log))
    if c.restore_log is not None and (failed := c.restore_log[3]) is not None:
        dump = replace(dump, restore_failed=f"{dump.source}:{failed}  {dump.text.split(chr(10))[failed - 1].strip()[:300]}")
    if c.uncommented and notes is not None:
        notes.append(uncommented_note(dump.source, c.uncommented))
    if c.left_out and notes is not None:
        said = left_out_note(dump.source, c.left_out)
        notes.append(said)
        dump = replace(dump, left_out_note=said)
    if c.marked and notes is not None:
        notes.append(marked_note(dump.source, c.marked))
    if c.repeated and notes is not None:
        notes.append(repeated_note(dump.source, c.repeated))
    if c.reruns and notes is not None:
        notes.extend(rerun_note(dump.source, *r) for r in c.reruns)
    if c.other_family:
        dump = replace(dump, other_family=tuple(c.other_family))
        if notes is not None:
            notes.append(family_note(dump.source, c.other_family, c.by_address, c.undecided_family))
    if c.relisted and notes is not None:
        notes.extend(relisted_note(dump.source, chain, headers, dropped) for chain, headers, dropped in c.relisted)
    fragments = json_excerpt(c.text, c.elisions)  # `nft -j | jq .` cut with "...": its objects, as one document
    if fragments is not None:
        return replace(dump, text=fragments, elisions=tuple(c.elisions), listings=tuple(c.listings))
    return replace(dump, text=c.text, elisions=tuple(c.elisions), listings=tuple(c.listings))


_AS_PRINTED = ("ipvsadm", "ipset", "nft-json")  # (this node's iptables-save: _own_output's scan, else cleaned)


def _own_output(dump: RuleDump) -> Any:
    """A tool's output as it printed it (iptables-save: every line of its own shapes, none a cut mark or a
    prompt): its reader's structure scan, made now instead of the look for cuts and prompts, and kept for
    the reader (RuleDump.feed). None for anything else."""
    if dump.feed is not None:
        return None
    save_like = dump.text.startswith(("#", "*")) and not head_commands(dump.text)
    if not save_like and "Name: " not in dump.text[:512]:
        return None  # (neither iptables-save's first line nor an `ipset list`'s first set, under its command or not)
    try:
        form = registry.form(dump_format(dump))
    except BadDump:
        return None
    if form.own_output is None or (not save_like and form.name not in _AS_PRINTED):
        return None  # (a text of prompts is read as printed only when it is such a listing: its scan says so)
    return form.own_output(dump.text)


def _described_notes(parsed: Parsed) -> list[str]:
    if not parsed.described:
        return []
    from kubectl_svcpath.parse import describe

    return describe.notes(parsed.described)


def input_notes(parsed: Parsed, collection: Collection, snapshot: ServiceSnapshot | None = None,
                paths: list[PortPath] | None = None) -> list[str]:
    """What the input lacked, and what that costs the answer."""
    notes = (list(collection.notes) + _described_notes(parsed) + parsed.left_out
             + registry.mode(parsed.mode).notes(parsed, snapshot, paths or []))
    iptables_sources = {d.source for d in parsed.rules.dumps} if parsed.rules is not None else set()
    for source, lines in parsed.elisions.items():
        if source not in iptables_sources and source not in parsed.placed_cuts:  # (their readers' notes say it)
            from kubectl_svcpath.parse.excerpt import excerpt_note

            notes.append(excerpt_note(source, lines))
    return notes

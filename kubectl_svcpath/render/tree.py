"""``-o tree``: each port's paths as a terminal tree, in the style of kubectl-tree."""

from __future__ import annotations

import re

from kubectl_svcpath.path import EndpointHop, EntryPath, PortPath
from kubectl_svcpath.render.common import conns_words, destination, dnat_mark, endpoint_state, left_out_state, notes_lines, wrap_lines
from kubectl_svcpath.render.text import Style, human_bytes, safe, share
from kubectl_svcpath.report import Report
from kubectl_svcpath.wording import counted

Node = tuple[str, list["Node"]]


def tree_lines(node: Node, prefix: str = "", last: bool = True, root: bool = True) -> list[str]:
    """Draw ``(label, children)`` with ├─ └─ │ connectors."""
    label, children = node
    lines = [label] if root else [prefix + ("└─ " if last else "├─ ") + label]
    child_prefix = "" if root else prefix + ("   " if last else "│  ")
    for i, child in enumerate(children):
        lines.extend(tree_lines(child, child_prefix, i == len(children) - 1, False))
    return lines


def _counters(packets: int | None, nbytes: int | None) -> str:
    if packets is None:
        return ""
    return f"  [{counted(packets, 'pkt')}, {human_bytes(nbytes)}]"


def _endpoint_node(hop: EndpointHop, style: Style) -> Node:
    state = endpoint_state(hop) + dnat_mark(hop)
    if state in ("STALE",):
        state = style.paint(state, "red")
    via = f"{safe(hop.chain)} -> " if hop.chain else ""
    weight = f" weight {hop.weight}" if hop.weight is not None else ""
    aff = " (+affinity)" if hop.affinity else ""
    node = f" on {safe(hop.node)}" if hop.node else ""
    label = f"{share(hop.probability)}  {via}{safe(hop.hostport)}{weight}{aff}{_counters(hop.packets, hop.bytes)}{conns_words(hop.conns)}  {state}{node}"
    return (label, [])


def _path_node(path: EntryPath, style: Style) -> Node:
    hidden = "" if path.shown_port else " (port not shown in the listing)"
    if path.entry is None:
        label = "entry rule: not in the input"
    else:
        label = f"{path.entry} {safe(destination(path))}{hidden}{_counters(path.packets, path.bytes)}"
    if path.evidence:
        label += f"  ({safe(path.evidence[0].ref)})"
    chain_label = " > ".join(safe(c) for c in path.chains)
    if path.source_ranges:
        chain_label += f"  allowed sources: {safe(', '.join(path.source_ranges))}"
    if path.verdict == "reject":
        children: list[Node] = [(style.paint("REJECT", "red") + ": the port has no endpoints", [])]
    elif path.verdict == "drop":
        children = [(style.paint("DROP", "red") + ": no local endpoints on this node", [])]
    elif path.verdict == "not-in-input":
        shown = f"in the input in part, {path.unseen} not" if path.unseen else "not in the input"
        children = [(f"{safe(path.chains[-1])}: {safe(shown)}", [])]
    elif not path.endpoints:
        children = [("no endpoint chain", [])]
    else:
        children = [_endpoint_node(h, style) for h in path.endpoints]
    return (label, [(chain_label, children)])


def _port_node(pp: PortPath, style: Style) -> Node:
    p = pp.port
    label = safe(p.label)
    if p.target_port is not None:
        label += f" -> {safe(p.target_port)}"
    if p.node_port:
        label += f" (nodePort {p.node_port})"
    if pp.affinity_timeout:
        label += f"  ClientIP affinity {pp.affinity_timeout}s"
    children = [_path_node(path, style) for path in pp.paths]
    if not pp.paths and not pp.entries_complete:  # an excerpt: a rule it does not show may exist
        children.append(("its rules are not in the input", []))
    elif not pp.paths:
        children.append((style.paint("no rules for this port on this node", "red"), []))
    for hop in pp.missing_endpoints:
        why = f" ({safe(hop.expected.reason)})" if hop.expected and hop.expected.reason not in ("ready", "") else ""
        children.append((style.paint("MISSING", "red") + f"  {safe(hop.hostport)} is ready in the EndpointSlice{why} but has no rule", []))
    for hop in pp.left_out_endpoints:
        children.append((f"{safe(hop.hostport)}  {safe(left_out_state(hop))}", []))
    return (label, children)


def render_tree(report: Report, style: Style, width: int | None = None, explain: bool = False) -> str:
    from kubectl_svcpath.render.verdict import EXPLAIN_HINT, explained_findings, short_findings, verdict_lines

    svc = report.service
    mode = report.mode + (f"/{report.backend}" if report.backend else "")
    where = f"node {safe(report.node)}" if report.node else "offline" + (f", read in pod {safe(report.pod)}" if report.pod else "")
    ips = ",".join(svc.cluster_ips) or ("-" if svc.from_api else "?")
    root = f"{safe(svc.ref)} ({safe(svc.type or '?')}, {safe(ips)}) — {mode}, {where}"
    lines = [folded for line in tree_lines((root, [_port_node(pp, style) for pp in report.ports]))
             for folded in fold_tree_line(line, width)]
    findings = (explained_findings(report.findings, style, report, width) if explain
                else short_findings(report.findings, style, report, width))  # already fitted to the width
    if not explain and report.findings:
        findings.append(EXPLAIN_HINT)
    out = (verdict_lines(report, style, width) + [""] + lines
           + wrap_lines(notes_lines(report) + [""], width) + findings)
    return "\n".join(out) + "\n"


_BRANCH = re.compile(r"^(?:│  |   |├─ |└─ )*")


def fold_tree_line(line: str, width: int | None) -> list[str]:
    """Fold a long tree line between its fields (two spaces apart), never inside a value.

    Continuation lines keep the tree's verticals and start 3 columns further in. A field longer
    than the room left is broken at its own spaces; a single token (an address, a chain name) is
    never cut, even when it overflows.
    """
    if not width or len(line) <= width:
        return [line]
    import textwrap

    prefix = _BRANCH.match(line).group(0)  # type: ignore[union-attr]
    cont = prefix.replace("├─ ", "│  ").replace("└─ ", "   ") + "   "
    out: list[str] = []
    current = prefix
    for field in line[len(prefix):].split("  "):
        if not field:
            continue
        sep = "" if current in (prefix, cont) else "  "
        if len(current) + len(sep) + len(field) <= width:
            current += sep + field
            continue
        if current not in (prefix, cont):
            out.append(current)
            current = cont
        if len(current) + len(field) <= width:
            current += field
            continue
        pieces = textwrap.wrap(field, width=max(width - len(cont), 20), break_long_words=False, break_on_hyphens=False)
        for piece in pieces[:-1]:
            out.append(current + piece)
            current = cont
        current += pieces[-1] if pieces else ""
    if current not in (prefix, cont):
        out.append(current)
    return out

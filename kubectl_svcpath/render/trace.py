"""``--trace``: one packet's way through the node's rules, as text (table, wide, tree).

The branches of a trace share their first hops; ``tree`` draws that, the default lists
each branch with its conditions, hops and evidence. Rule text comes from outside: safe().
"""

from __future__ import annotations

import re


from kubectl_svcpath.render.common import wrap_lines
from kubectl_svcpath.render.plain import plain_table
from kubectl_svcpath.render.text import Style, safe, share
from kubectl_svcpath.render.tree import Node as TreeNode, fold_tree_line, tree_lines
from kubectl_svcpath.trace import TraceReport
from kubectl_svcpath.trace.model import Branch, Choice, Step, Trace
from kubectl_svcpath.trace.state import address_order
from kubectl_svcpath.wording import listed

_VERDICT_COLOR = {"delivered": "green", "rejected": "red", "dropped": "red", "unknown": "yellow", "not-a-service": "yellow"}


def render_traces(reports: list[TraceReport], fmt: str, style: Style, width: int | None = None) -> str:
    """Every node's trace report: one document for json/yaml, text blocks otherwise."""
    if fmt in ("json", "yaml"):
        from kubectl_svcpath.render import render_document
        from kubectl_svcpath.report import API_VERSION

        doc = reports[0].to_dict() if len(reports) == 1 else {
            "apiVersion": API_VERSION, "kind": "PacketTraceList", "items": [r.to_dict() for r in reports]}
        return render_document(doc, fmt)
    return "\n".join(render_trace_report(r, fmt, style, width) for r in reports)


def render_trace_report(report: TraceReport, fmt: str, style: Style, width: int | None = None) -> str:
    head = f"Service {safe(report.service.ref)}" + (f" on node {safe(report.node)}" if report.node else "") + f", {report.mode} mode"
    lines = wrap_lines([head] + [f"Note:     {safe(n)}" for n in report.notes], width)
    for trace in report.traces:
        lines.append("")
        lines.extend(_trace_lines(trace, fmt, style, width))
    if not report.traces:
        lines.append("nothing to trace")
    if report.traces and fmt == "table":
        lines += ["", *wrap_lines(["(-o wide adds each rule's text and the random choices; -o tree draws the branches as one tree)"], width)]
    return "\n".join(lines) + "\n"


def _packet_line(trace: Trace) -> str:
    p = trace.packet
    entry = f" ({p.entry})" if p.entry else ""
    src = p.src_label + (f" [{p.src}]" if p.src and p.src not in p.src_label else "")
    host = f"[{p.dst}]" if ":" in p.dst else p.dst
    hook = "OUTPUT" if p.origin == "node" else "PREROUTING"
    return f"Packet:   {p.protocol} {safe(src)} -> {host}:{p.dport}{entry}, enters at {hook}"


def verdict_line(trace: Trace) -> str:
    """One sentence: what happens to a new connection, over every branch."""
    branches = trace.branches
    kinds = {b.verdict for b in branches}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind == "delivered":
            by_place = {b.dnat: b.endpoint or "?" for b in branches}
            eps = [by_place[d] for d in sorted(by_place, key=address_order)]
            if len(eps) > _LISTED:  # (a Service of 300 endpoints: one sentence, not a 10 KB line)
                return f"delivered to one of {len(eps)} endpoints ({listed(eps)})"
            return f"delivered to {', '.join(eps)}"
        if kind in ("rejected", "dropped"):
            rules = sorted({b.verdict_step.where for b in branches if b.verdict_step})
            return f"{kind} by {', '.join(rules) or 'a rule'}"
        if kind == "not-a-service":
            reasons = {b.reason for b in branches}
            if len(reasons) == 1 and not next(iter(reasons)).startswith("no Service rule"):
                return f"not rewritten: {safe(reasons.pop())}"
            return "no Service rule matched: not a Service address on this node"
        reasons = {b.reason for b in branches}
        if len(reasons) == 1 and (reason := reasons.pop()):  # (one reason for every branch: said here, not just below)
            return f"unknown: {safe(reason)}"
        return "unknown: the trace met a rule it cannot decide (see the branches)"
    parts = []
    for kind in sorted(kinds):
        n = sum(1 for b in branches if b.verdict == kind)
        parts.append(f"{kind} in {n} branch{'es' if n > 1 else ''}")
    return "depends: " + ", ".join(parts)


def _trace_lines(trace: Trace, fmt: str, style: Style, width: int | None) -> list[str]:
    kind = trace.summary
    lines = [_packet_line(trace), f"Verdict:  {style.paint(safe(verdict_line(trace)), _VERDICT_COLOR.get(kind, 'yellow'))}"]
    lines += [f"Note:     {safe(note)}" for note in trace.notes]
    sources = trace_sources(trace)
    lines += [f"{'Rules:' if i == 1 else '':10}[{i}] {safe(src)}" for i, src in enumerate(sources, 1)]
    lines = wrap_lines(lines, width)
    if fmt == "tree":
        return lines + _tree(trace, style, sources, width)
    groups = _outcomes(trace.branches)
    wide = fmt == "wide"
    rows = []
    for idx in groups:
        b = trace.branches[idx[0]]
        shares = [trace.branches[i].share for i in idx]
        # a random pick of unknown share (an IPVS real server whose weight is not in the input: of weight 0 it takes
        # no new connection, a way no branch shows) leaves even the only outcome's share unknown
        blind = any(c.kind == "random" and c.factor is None for i in idx for c in trace.branches[i].choices)
        if len(idx) == len(trace.branches) and not blind:  # every way ends here: all of them, whatever an affinity's unknown share
            total = share(1.0)
        else:
            total = share(sum(shares)) if all(x is not None for x in shares) else "?"  # type: ignore[arg-type]
        rows.append([_numbers(idx), b.verdict, b.endpoint or "-", total, _masq_cell(b)])
    if not wide:
        rows = [[_short_cell(r[0]), *r[1:]] for r in _folded_rows(rows)]
    table = _summary_table(rows)
    if width and max(map(len, table.splitlines())) + 2 > width:  # which rule marked it: in each branch's own lines
        table = _summary_table([[*r[:4], "yes" if r[4].startswith("yes (") else r[4]] for r in rows])
    lines += ["", *("  " + line for line in table.splitlines())]
    if len(rows) > 1:
        lines += wrap_lines([f"  ({said})" for said in order_said(trace.branches)], width)
    # the default view: each outcome's first branch, and of many ways alike but for the endpoint (a
    # Service of 300 endpoints) only the first, with a line for the others; -o wide: every branch
    folded: dict[int, list[int]] = {}  # the first group of such ways -> [how many others, their branches…]
    hidden: set[int] = set()
    for same in ([] if wide else _alike(trace.branches, groups)):
        if len(same) >= _FOLD_FROM:
            folded[same[0][0]] = [len(same) - 1, *sorted(i for idx in same[1:] for i in idx)]
            hidden.update(idx[0] for idx in same[1:])
    for idx in groups:
        if idx[0] in hidden:
            continue
        shown = idx if wide else idx[:1]
        for i in shown:
            lines.append("")
            lines.extend(_branch_lines(i + 1, trace.branches[i], style, wide, sources, width))
        if len(shown) < len(idx):
            rest = idx[1:]
            which = f"branch {_numbers(rest)} reaches" if len(rest) == 1 else f"branches {_numbers_said(rest)} reach"
            lines.extend(wrap_lines([f"  ({which} the same outcome through other choices: -o wide lists them)"], width))
        if idx[0] in folded:
            endpoints, *others = folded[idx[0]]
            lines.extend(wrap_lines([f"  (branches {_numbers_said(others)} take this same way to the {endpoints} other endpoints, "
                                     "each through its own endpoint chain: -o wide lists them)"], width))
    return lines


def order_said(branches: list[Branch]) -> list[str]:
    """The order the branches come in (trace.state.ordered: the biggest share first, what a reader looks for; the
    rules' own order is kube-proxy's sort of the endpoints' addresses, not worth more), said under the table."""
    said = ["branches by share of new connections, largest first; equal or unknown shares by address"]
    if len({b.first_connection for b in branches}) > 1:
        said.append("then those under a condition: a returning client, a match the trace cannot decide")
    return said


_LISTED = 4  # endpoints a verdict names one by one; more: how many, and the first three
_FOLD_FROM = 6  # rows (branches) alike but for their endpoint from which the rest are one row (line); -o wide: all


def _folded_rows(rows: list[list[str]]) -> list[list[str]]:
    """Runs of rows alike but for the endpoint (verdict, share, masquerade): the first rows of a long run as
    they are, the rest one row that says how many endpoints it stands for, each with that share."""
    out: list[list[str]] = []
    i = 0
    while i < len(rows):
        j = i
        while j < len(rows) and rows[j][1] == rows[i][1] and rows[j][3:] == rows[i][3:] and rows[j][2] != "-":
            j += 1
        if j - i >= _FOLD_FROM:
            out += rows[i:i + 3]
            rest = rows[i + 3:j]
            numbers = sorted(n for r in rest for n in _branch_numbers(r[0]))
            cell = _numbers([n - 1 for n in numbers])
            out.append([cell if len(cell) <= 12 else f"{len(numbers)} more", rows[i][1], f"{len(rest)} more endpoints",
                        rows[i][3] + (" each" if rows[i][3] not in ("?", "-") else ""), rows[i][4]])
            i = j
        else:
            out.append(rows[i])
            i += 1
    return out


def _branch_numbers(cell: str) -> list[int]:
    """The branch numbers a BRANCH cell names ("3", "2,5,6", "4-300": _numbers)."""
    out: list[int] = []
    for part in cell.split(","):
        first, _, last = part.partition("-")
        out += range(int(first), int(last or first) + 1)
    return out


def _alike(branches: list[Branch], groups: list[list[int]]) -> list[list[list[int]]]:
    """The outcome groups, gathered where their first branches take the same way but for the endpoint
    (the same rules, verdict and masquerade; each endpoint chain its own): a trace of 300 endpoints is
    shown with one branch, not 300."""
    ways: dict[tuple[object, ...], list[list[int]]] = {}
    for idx in groups:
        b = branches[idx[0]]
        if b.verdict != "delivered":
            ways[(len(ways),)] = [idx]  # (a verdict of its own is shown on its own)
            continue
        key = (b.masquerade, tuple(_VALUES.sub("*", f"{s.where} {s.action}") for s in b.steps),
               tuple(c.kind for c in b.choices if c.kind != "random"))
        ways.setdefault(key, []).append(idx)
    return list(ways.values())


# what differs between the ways to two endpoints: their endpoint chains' names (iptables' hash, nftables'
# endpoint-…__address/port), addresses, ports and the rules' positions in the service chain
_VALUES = re.compile(r"KUBE-SEP-[A-Z2-7]{16}|endpoint-\S+|\[[0-9a-fA-F:.]+\]|\d+(?:\.\d+){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+|#\d+|\b\d+\b")


def _outcomes(branches: list[Branch]) -> list[list[int]]:
    """Branch indexes grouped by what happens (verdict, endpoint, masquerade, deciding rule), first seen first."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, b in enumerate(branches):
        key = (b.verdict, b.endpoint, b.masquerade, b.verdict_step.where if b.verdict_step else None, b.reason if b.verdict == "unknown" else "")
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _numbers(idx: list[int]) -> str:
    """Branch numbers for the BRANCH column: "3", "2,5,6", "4-300", "7,8,20-33" (a run of three or more: a range)."""
    nums = [i + 1 for i in idx]
    parts: list[str] = []
    start = 0
    for end in range(1, len(nums) + 1):
        if end == len(nums) or nums[end] != nums[end - 1] + 1:
            run = nums[start:end]
            parts += [f"{run[0]}-{run[-1]}"] if len(run) > 2 else list(map(str, run))
            start = end
    return ",".join(parts)


_CELL_MAX = 24  # a BRANCH cell longer than this (forks of unknown interfaces, a client not given): cut, the count said


def _short_cell(cell: str) -> str:
    """A long BRANCH cell as its first numbers and how many branches it holds ("7,8,20-33,… 832 in all"):
    hundreds of numbers made one row thousands of columns wide. -o wide lists them all."""
    if len(cell) <= _CELL_MAX:
        return cell
    parts = cell.split(",")
    kept: list[str] = []
    while parts and len(",".join([*kept, parts[0]])) <= _CELL_MAX - 12:
        kept.append(parts.pop(0))
    return ",".join(kept) + f",… {len(_branch_numbers(cell))} in all"


def _numbers_said(idx: list[int]) -> str:
    """Branch numbers in a sentence: "3 and 4", "2, 5 and 6", "4-300"."""
    cell = _numbers(idx)
    return cell if "," not in cell else listed(cell.split(","), most=8)


def _summary_table(rows: list[list[str]]) -> str:
    return plain_table([[safe(c) for c in r] for r in rows], ["BRANCH", "VERDICT", "ENDPOINT", "SHARE", "MASQUERADE"], 2)


def _masq_cell(b: Branch) -> str:
    if b.masquerade is None:
        return "not evaluated" if b.verdict == "delivered" else "-"
    if not b.masquerade:
        return "no"
    return f"yes ({b.masquerade_why.where})" if b.masquerade_why else "yes"


def _branch_head(b: Branch) -> str:
    out = b.verdict
    if b.endpoint:
        out += f" -> {b.endpoint}"
    if b.share is not None:
        out += f", {share(b.share)} of new connections"
    elif not b.first_connection:
        out += ", share not known (depends on the conditions below)"
    if b.masquerade is True:
        if b.masquerade_why is None:
            why = ""
        elif b.masquerade_why is b.masquerade_step:
            why = f" by {b.masquerade_why.where}"
        else:
            why = f" (marked by {b.masquerade_why.where})"
        out += f", source masqueraded{why}"
    elif b.masquerade is False and b.verdict == "delivered":
        out += ", source kept"
    return out


def _choice_text(c: Choice) -> str:
    if c.kind == "random":
        return f"{c.why} ({c.where})"
    side = "yes" if c.taken == "matched" else ("no" if c.taken == "not matched" else c.taken)
    label = "affinity" if c.kind == "affinity" else "unknown"
    return f"{label}: {c.why} -> {side} ({c.where})"


def _branch_lines(i: int, b: Branch, style: Style, wide: bool, sources: list[str], width: int | None) -> list[str]:
    lines = [f"Branch {i}: {style.paint(safe(_branch_head(b)), _VERDICT_COLOR.get(b.verdict, 'yellow'))}"]
    lines = wrap_lines(lines, width)
    if b.verdict != "delivered" and b.reason:
        lines.extend(_fitted(f"  why: {safe(b.reason)}", "      ", width))
    for c in b.choices:
        if c.kind == "random" and not wide:
            continue
        lines.extend(wrap_lines([f"  if {safe(_choice_text(c))}"], width))
    refs = ["(kube-proxy's jump, assumed)" if s.ref.startswith("(") else short_ref(s.ref, sources) for s in b.steps]
    w1 = max((len(safe(s.where)) for s in b.steps), default=0)
    w2 = max((len(safe(s.action)) for s in b.steps), default=0)
    # three columns, or where they would not fit (nftables' chain names: 120 columns), each rule and its
    # evidence on a row, what it does under it
    stacked = bool(width) and 2 + w1 + 2 + w2 + 2 + max(map(len, refs), default=0) > (width or 0)
    for s, ref in zip(b.steps, refs, strict=True):
        if stacked:
            lines += [f"  {safe(s.where)}  {safe(ref)}", *_fitted(f"      {safe(s.action)}", "        ", width)]
            under = "      "
        else:
            lines.append(f"  {safe(s.where).ljust(w1)}  {safe(s.action).ljust(w2)}  {safe(ref)}".rstrip())
            under = f"  {'':{w1}}  "
        if s.note and not s.ref.startswith("("):  # (continued under the note's first word)
            lines.extend(_fitted(f"{under}^ {safe(_short_note(s.note, sources))}", under + "  ", width))
        if wide:
            lines.append(f"{under}  {style.paint(safe(s.text), 'dim')}")
    return lines


def _fitted(line: str, indent: str, width: int | None) -> list[str]:
    """``line`` folded at its spaces to ``width``, its next lines starting with ``indent``."""
    if not width or len(line) <= width:
        return [line]
    import textwrap

    return textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False) or [line]


def _tree(trace: Trace, style: Style, sources: list[str], width: int | None = None) -> list[str]:
    """The branches as one tree: hops they share are drawn once."""
    root: dict[str, object] = {}
    order: list[str] = []
    for b in trace.branches:
        node = root
        for s in b.steps:
            key = _step_label(s, sources)
            node = node.setdefault(key, {})  # type: ignore[assignment]
        leaf = f"=> {_branch_head(b)}"
        conds = [_choice_text(c) for c in b.choices if c.kind != "random"]
        if conds:
            leaf += "  [if " + "; ".join(conds) + "]"
        node.setdefault(leaf, {})
        order.append(leaf)

    def build(label: str, children: dict[str, object]) -> TreeNode:
        return (safe(label), [build(k, v) for k, v in children.items()])  # type: ignore[arg-type]

    top = [build(k, v) for k, v in root.items()]  # type: ignore[arg-type]
    out: list[str] = []
    for i, n in enumerate(top):
        out.extend(tree_lines(n, "", i == len(top) - 1, root=True))
    return ["  " + folded for line in out for folded in fold_tree_line(line, width - 2 if width else None)]


def _step_label(s: Step, sources: list[str]) -> str:
    if s.ref.startswith("("):
        return f"{s.where}: {s.action}  (kube-proxy's jump, assumed)"
    label = f"{s.where}: {s.action}  {short_ref(s.ref, sources)}"
    if s.note:
        label += f"  [{_short_note(s.note, sources)}]"
    return label


def _split_ref(ref: str) -> tuple[str, str]:
    """``file:12`` -> (file, ":12"); ``file.json#/nftables/3`` -> (file.json, "#/nftables/3")."""
    if "#/" in ref:
        src, _, rest = ref.partition("#/")
        return src, "#/" + rest
    src, sep, line = ref.rpartition(":")
    if sep and line.isdigit():
        return src, ":" + line
    return ref, ""


def trace_sources(trace: Trace) -> list[str]:
    """The files the trace's evidence comes from, numbered once so that each step cites [n]:line."""
    seen: list[str] = []
    refs = [s.ref for b in trace.branches for s in b.steps]
    refs += [s.note.rsplit("(", 1)[-1].rstrip(")") for b in trace.branches for s in b.steps if s.note and s.note.startswith("kernel's view")]
    for ref in refs:
        if ref.startswith("("):
            continue
        src, _ = _split_ref(ref)
        if src not in seen:
            seen.append(src)
    return seen


def short_ref(ref: str, sources: list[str]) -> str:
    src, rest = _split_ref(ref)
    return f"[{sources.index(src) + 1}]{rest}" if src in sources else ref


def _short_note(note: str, sources: list[str]) -> str:
    if note.startswith("kernel's view") and note.endswith(")") and "(" in note:
        head, _, ref = note[:-1].rpartition("(")
        return f"{head}({short_ref(ref, sources)})"
    return note

"""Pieces the text renderers share: the report header, the findings block, endpoint states."""

from __future__ import annotations

import re

from kubectl_svcpath.path import EndpointHop, EntryPath, Finding
from kubectl_svcpath.render.text import Style, safe
from kubectl_svcpath.report import Report
from kubectl_svcpath.wording import counted, listed


def endpoint_state(hop: EndpointHop, brief: bool = False) -> str:
    """Slice conditions, then whether this node should program it (expected.py) when that adds something.

    ``brief`` (table cells): only a hop this node should not program is marked; the reasons are in
    the findings, the tree and -o json.
    """
    if hop.in_slices is False:
        return "STALE"
    if hop.in_slices is None and hop.ready is None:
        return "unknown"  # dump-only: no EndpointSlices to judge it against
    if hop.terminating:
        state = "serving,terminating" if hop.serving else "terminating"
    elif hop.ready:
        state = "ready"
    else:
        state = "not-ready"
    x = hop.expected
    if x is None or (x.programmed and x.reason == "ready"):
        return state
    if brief:
        return f"{state}; NOT EXPECTED" if x.programmed is False else state
    if x.programmed is False:
        return f"{state}; NOT EXPECTED HERE: {x.reason}"
    return f"{state}; {x.reason}"


def dnat_mark(hop: EndpointHop) -> str:
    """What a row or a branch adds for an endpoint whose DNAT rule the input does not show ("" when it does)."""
    return "; DNAT not in the input" if hop.dnat_unseen else ""


def conns_cell(conns: tuple[int | None, int | None]) -> str:
    """An IPVS real server's ActiveConn/InActConn, "-" for a column the listing did not have."""
    return "/".join("-" if n is None else str(n) for n in conns)


def conns_words(conns: tuple[int | None, int | None] | None) -> str:
    """The same in words for the tree ("" outside IPVS mode)."""
    if conns is None:
        return ""
    active, inactive = conns
    if active is None and inactive is None:
        return "  connections not in the input"
    return "  " + ", ".join(f"{'?' if n is None else n} {what}" for n, what in ((active, "active"), (inactive, "inactive")))


def left_out_state(hop: EndpointHop) -> str:
    """An endpoint of the slices this node has no rule for, rightly (or unknown: why)."""
    reason = hop.expected.reason if hop.expected else "?"
    return f"left out: {reason}" if hop.expected and hop.expected.programmed is False else reason


def destination(path: EntryPath) -> str:
    if path.entry is None:
        return "not in the input"
    port = path.port if path.port else "?"
    if path.entry == "nodePort" and not path.address:
        return f"*:{port}"  # any local address
    addr = path.address or "?"
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def header_lines(report: Report) -> list[str]:
    svc = report.service
    ips = ",".join(svc.cluster_ips) or ("-" if svc.from_api else "?")
    mode = report.mode + (f" ({report.backend})" if report.backend else "")
    lines = [
        f"Service:  {safe(svc.ref)}  type {safe(svc.type or '?')}  cluster IP {safe(ips)}"
        + (f"  {'external or LB IPs' if svc.external_or_lb else 'external IPs'} {safe(','.join(svc.external_ips))}"
           if svc.external_ips else "")
        + (f"  LB {safe(','.join(svc.load_balancer_ips))}" if svc.load_balancer_ips else "")
        + (f"  addresses {safe(','.join(svc.other_ips))} (kind not in the input)" if svc.other_ips else ""),
    ]
    offline = all(s.kind in ("file", "example") for s in report.sources)
    where = f"node {safe(report.node)}" if report.node else "node unknown" + (" (offline)" if offline else "")
    if report.pod:
        where += f", read in pod {safe(report.pod)}"
    times = sorted({s.collected_at for s in report.sources if s.collected_at})
    if times:
        where += f", collected {safe(times[-1])}" + (f" (earliest source {safe(times[0])})" if len(times) > 1 else "")
    lines.append(f"Rules:    {mode} mode, {where}")
    for s in report.sources:
        extra = ", ".join(x for x in (s.reader and safe(s.reader), "counters" if s.has_counters else "no counters") if x)
        lines.append(f"          {safe(s.source)} [{safe(s.format)}; {extra}]")
    policy = []  # the values that differ from the API defaults; unknown ones are listed under "Unknown:"
    if svc.external_traffic_policy not in ("Cluster", None):
        policy.append(f"externalTrafficPolicy {safe(svc.external_traffic_policy)}")
    if svc.internal_traffic_policy not in ("Cluster", None):
        policy.append(f"internalTrafficPolicy {safe(svc.internal_traffic_policy)}")
    if svc.session_affinity not in ("None", None):
        policy.append(f"sessionAffinity {safe(svc.session_affinity)}")
    if svc.health_check_node_port is not None and not svc.from_api:  # (dump-only: the filter table's ACCEPT shows it)
        policy.append(f"healthCheckNodePort {svc.health_check_node_port}")
    if policy:
        lines.append("Policy:   " + ", ".join(policy))
    return lines


def findings_lines(findings: list[Finding], style: Style, verbose: bool = True) -> list[str]:
    if not findings:
        return ["Findings: none"]
    lines = ["Findings:"]
    for f in findings:
        lines.append(f"  {style.severity(f.severity)}  {safe(f.code)}: {safe(f.message)}")
        if verbose:
            lines.extend(f"      {safe(d)}" for d in f.detail)
            lines.extend(f"      evidence: {safe(e)}" for e in f.evidence)
        if f.action:
            lines.append(f"      -> {safe(f.action)}")
    return lines


def notes_lines(report: Report) -> list[str]:
    """The notes, then every fact the input does not show (unknown: not absent)."""
    return [f"Note:     {safe(n)}" for n in report.notes] + [f"Unknown:  {safe(u)}" for u in report.not_in_input()]


# a header line's label and the padding to its value: "Rules:    ", "Not read: " (as kubectl describe lays them)
_LABEL = re.compile(r"[A-Z][a-z]+(?: [a-z]+)?: +(?=\S)")
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colour codes Style.paint writes (safe() escaped any other ESC)


def wrap_lines(lines: list[str], width: int | None) -> list[str]:
    """Fold prose lines to the terminal width, continuing under their own indent (+4); a header line
    ("Rules:    iptables mode, …") under its value, as the findings continue under their text."""
    if not width:
        return lines
    import textwrap

    out: list[str] = []
    for line in lines:
        plain = _SGR.sub("", line)  # colour codes take no column
        if len(plain) <= width:
            out.append(line)
            continue
        label = _LABEL.match(plain)
        indent = " " * (len(label.group()) if label else len(plain) - len(plain.lstrip(" ")) + 4)
        # (the line's own indent as the first row's: textwrap left a word wider than the room after it at column 0,
        # "/a/long/path" of a Rules: source out under the label's column)
        lead = plain[: len(plain) - len(plain.lstrip(" "))]
        rows = textwrap.wrap(plain[len(lead):], width=max(width, 40), initial_indent=lead, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False) or [plain]
        if label and len(rows) > 1 and rows[0] == label.group().rstrip():  # a word wider than the room (a long
            rows[:2] = [label.group() + rows[1].lstrip()]  # path): beside its label, not under an empty "Note:"
        for k in range(len(rows) - 1, 0, -1):  # ... nor under the words before it: "[1] /a/long/path"
            if len(rows[k]) > width and " " not in rows[k].strip():
                rows[k - 1:k + 1] = [rows[k - 1] + " " + rows[k].strip()]
        out.extend(rows if plain == line else _repainted(line, rows, indent))
    return out


def _repainted(line: str, rows: list[str], indent: str) -> list[str]:
    """``rows`` (``line`` wrapped without its colour codes) with the codes back where they were: each row takes
    its characters from ``line`` in order, the spaces dropped at a break skipped."""
    out: list[str] = []
    pos = 0

    def codes() -> str:  # the colour codes at ``pos``, taken
        nonlocal pos
        taken = ""
        while (m := _SGR.match(line, pos)) is not None:
            taken, pos = taken + m.group(), m.end()
        return taken

    for k, row in enumerate(rows):
        text = row if k == 0 else row[len(indent):]
        buf = "" if k == 0 else indent
        while k and pos < len(line) and (line[pos] == " " or _SGR.match(line, pos)):
            buf += codes() if line[pos] != " " else ""
            pos += line[pos] == " "
        for _ in text:
            buf += codes() + line[pos]
            pos += 1
        out.append(buf + codes())
    return out


# the policy chains that pick among this node's endpoints only (externalTrafficPolicy/internalTrafficPolicy Local)
_LOCAL_CHAINS = ("KUBE-SVL-", "KUBE-XLB-", "local-")


def local_only(paths: list[EntryPath]) -> bool:
    """Every path the input shows endpoints on picks them through a Local policy's chain (KUBE-SVL, the pre-1.24
    KUBE-XLB, nftables' local-): the endpoints shown are this node's, not necessarily all of the Service's."""
    picked = [p for p in paths if p.endpoints]
    return bool(picked) and all((p.policy_chain or "").startswith(_LOCAL_CHAINS) for p in picked)


def hosts_word(reports: list[Report]) -> str:
    """What several reports are of, in the plural: "nodes", "pods" (a paste of several pods' output), else "hosts"."""
    return "nodes" if all(r.node for r in reports) else "pods" if all(r.pod for r in reports) else "hosts"


def fold_alike(reports: list[Report], texts: list[str]) -> list[tuple[int, list[Report]]]:
    """Several nodes' text reports: each one to print (its index), with the later reports that read the same but for
    the host's own name (and pod) and when its rules were read, folded into it (as dshbak -c folds hosts' identical
    output). A name is replaced where it stands alone, so a report naming another node never reads as that node's."""
    first: dict[str, int] = {}
    out: list[tuple[int, list[Report]]] = []
    for i, (r, text) in enumerate(zip(reports, texts, strict=True)):
        key = _alike_key(r, text)
        if key in first:
            out[first[key]][1].append(r)
        else:
            first[key] = len(out)
            out.append((i, []))
    return out


def _alike_key(r: Report, text: str) -> str:
    own = [(x, f"\x00{n}") for n, x in enumerate((r.node, r.pod)) if x]
    own += [(s.collected_at, "\x00t") for s in r.sources if s.collected_at]
    for value, mark in own:
        text = re.sub(rf"(?<![\w.-]){re.escape(value)}(?![\w.-])", mark, text)
    return text


def nodes_summary(reports: list[Report], not_read: int, width: int | None, sampled: tuple[int, int] | None = None) -> list[str]:
    """Several nodes' reports: one closing line of how they came out (the last thing a terminal shows after
    a hundred reports), the nodes of each outcome named with their finding codes; ``sampled``: --sample's
    (readable nodes, zones): "sampled of 40, across 3 zones"."""
    from kubectl_svcpath.render.audit import health

    kinds: dict[str, dict[str, list[str]]] = {"error": {}, "warning": {}}
    ok = 0
    unknown: list[str] = []  # no error or warning, but a path the input does not show: not "ok" (--all's "?")
    for r in reports:
        host = r.host or "?"
        worst = r.worst_severity
        if worst not in kinds:
            if health(r) == "ok":
                ok += 1
            else:
                unknown.append(safe(host))
            continue
        codes = ", ".join(dict.fromkeys(f.code for f in r.findings if f.severity == worst))
        kinds[worst].setdefault(codes, []).append(safe(host))
    parts = [f"{ok} ok"]
    for severity, plural in (("warning", "warnings"), ("error", "errors")):
        groups = kinds[severity]
        n = sum(map(len, groups.values()))
        if n:
            parts.append(f"{n} with {plural} (" + "; ".join(f"{listed(nodes, 5)}: {safe(codes)}" for codes, nodes in groups.items()) + ")")
    if unknown:
        parts.append(f"{len(unknown)} with paths not in the input ({listed(unknown, 5)})")
    if not_read:
        parts.append(f"{not_read} not read (the error lines on stderr)")
    across = hosts_word(reports)
    head = counted(len(reports) + not_read, across[:-1], across)
    if sampled is not None:
        head += f" (sampled of {sampled[0]}, across {counted(sampled[1], 'zone')})"
    return wrap_lines([f"Summary:  {head}: " + ", ".join(parts)], width)


def skipped_lines(skipped: list[tuple[str, str]], width: int | None) -> list[str]:
    """Several nodes: those not read and why (a Windows node), nodes with the same reason on one line."""
    by_why: dict[str, list[str]] = {}
    for node, why in skipped:
        by_why.setdefault(why, []).append(node)
    lines = []
    for why, nodes in by_why.items():
        shown = ", ".join(safe(n) for n in nodes[:8]) + (f" and {len(nodes) - 8} more" if len(nodes) > 8 else "")
        lines.append(f"Not read: node{'s' if len(nodes) > 1 else ''} {shown}: {safe(why)}")
    return wrap_lines(lines, width)

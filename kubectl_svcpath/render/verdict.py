"""The first screen: one verdict line per service port, then findings as headline + one line of why.

    port-v1 39090/TCP → 1 of 1 endpoint (ready), 2 pkts — OK; the node's iptables hides the port match (harmless)

Evidence, explanations and fixes come with --explain (or -o wide), where an explanation shared by
several findings (the iptables version skew behind both hidden-*-match findings) is printed once.
"""

from __future__ import annotations

import re
from collections import Counter

from kubectl_svcpath.path import SEVERITY_ORDER, EndpointHop, Finding, PortPath
from kubectl_svcpath.render.common import endpoint_state, local_only
from kubectl_svcpath.render.text import Style, safe
from kubectl_svcpath.report import Report
from kubectl_svcpath.wording import counted

# findings about how the rules were *listed*, not where packets go: traffic is unaffected
LISTING_ONLY = frozenset({"hidden-port-match", "hidden-mark-match", "prefix-shown-as-host", "dump-only"})
EXPLAIN_HINT = "(--explain: evidence, explanations and fixes)"


def port_title(pp: PortPath) -> str:
    p = pp.port
    return f"{safe(p.name) or '(unnamed)'} {p.port or '?'}/{p.protocol}"


def sorted_findings(findings: list[Finding], report: Report | None = None) -> list[Finding]:
    """By severity, then by the order of the Service's ports (findings about no one port last)."""
    order = {pp.port.name: i for i, pp in enumerate(report.ports)} if report else {}
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9),
                                           order.get(f.port, len(order)) if f.port is not None else len(order) + 1))


def _endpoints(report: Report, pp: PortPath) -> str:
    if pp.paths and all(p.verdict == "reject" for p in pp.paths):
        return "REJECT (no endpoints)"
    if pp.paths and all(p.verdict == "drop" for p in pp.paths):
        return "DROP (no local endpoint)"
    # one per pod:port; an endpoint chain whose DNAT the input does not show counts once, by its chain
    hops: dict[tuple[str, int | None], EndpointHop] = {}
    for path in pp.paths:
        for hop in path.endpoints:
            hops.setdefault((hop.ip, hop.port) if hop.ip not in (None, "?") else (f"chain {hop.chain}", None), hop)
    if not hops and any(p.verdict == "not-in-input" for p in pp.paths):
        return "endpoints not in the input"  # not "0 endpoints": the chain or the real servers were cut out
    states = Counter(endpoint_state(h, brief=True) for h in hops.values())  # (the reasons: table, tree, findings)
    if report.service.from_api:
        listed = {(e.ip, e.port) for e in report.service.port_endpoints(pp.port)}
        known = {k for k in hops if not str(k[0]).startswith("chain ")}
        total = max(len(listed | known), len(hops))
        head = f"{len(hops)} of {counted(total, 'endpoint')}"
    else:  # (dump-only: the endpoints a Local policy's chain picks are this node's, maybe not all the Service has)
        head = counted(len(hops), "local endpoint" if local_only(pp.paths) else "endpoint")
    if any(p.endpoints_in_part for p in pp.paths):
        head += " shown, any others not in the input"
    if not hops:
        return head
    if set(states) == {"unknown"}:
        return f"{head} (state not in the input)"
    if len(states) == 1:
        return f"{head} ({next(iter(states))})"
    return f"{head} (" + ", ".join(f"{n} {s}" for s, n in sorted(states.items())) + ")"


def _packets(pp: PortPath) -> str:
    counts = [p.packets for p in pp.paths if p.packets is not None]
    if counts:
        return _pkts(sum(counts))
    # no entry rule's counters, the endpoints' may be there (a listing of the service chain alone); each
    # endpoint once: its paths share its chain and counters
    hops = {h.chain or (h.ip, h.port): h.packets for p in pp.paths for h in p.endpoints if h.packets is not None}
    if hops:
        return f"entry counters not in the input, {_pkts(sum(hops.values()))} to the endpoints"
    return "counters not in the input"


def _pkts(n: int) -> str:
    return counted(n, "pkt")


def _not_proxied(report: Report) -> str | None:
    """Why kube-proxy writes no rules for this Service (headless, another proxy's label...), from the API."""
    x = report.expected
    if x is None or x.get("programmed") is not False or not x.get("reason"):
        return None
    reason = str(x["reason"])  # "headless (clusterIP: None): kube-proxy writes no rules for it": the why
    return safe(reason[: reason.index(": kube-proxy")] if ": kube-proxy" in reason else reason)


def port_verdict(report: Report, pp: PortPath, style: Style, width: int | None = None) -> str:
    """One line: where this port's traffic goes and whether that is healthy."""
    mine = [f for f in report.findings if f.code not in LISTING_ONLY and f.port in (pp.port.name, None)
            and f.severity in ("error", "warning")]
    mine = sorted_findings(mine, report)
    skipped = _not_proxied(report)
    if not pp.paths:
        where = f"no kube-proxy rules: {skipped}" if skipped else "no rule for it in the input"
    else:
        where = f"{_endpoints(report, pp)}, {_packets(pp)}"
    if mine and mine[0].severity == "error":
        status = style.paint("FAIL", "red") + f": {safe(mine[0].code)}"
    elif mine:
        status = style.paint("WARN", "yellow") + f": {safe(mine[0].code)}"
    elif not pp.paths:
        status = style.paint("OK", "green") if skipped else "UNKNOWN"
    elif all(p.verdict == "not-in-input" for p in pp.paths):
        status = "UNKNOWN (its chains are not in the input)"
    elif any(p.verdict == "not-in-input" for p in pp.paths):  # (--all's HEALTH: "?: not in the input")
        kinds = ", ".join(dict.fromkeys(p.entry or "?" for p in pp.paths if p.verdict == "not-in-input"))
        status = f"UNKNOWN (where its {kinds} traffic goes is not in the input)"
    elif any(p.endpoints_in_part for p in pp.paths):
        status = "UNKNOWN (not all its endpoints are in the input)"
    elif any(f.endpoint_chains_unseen and f.port == pp.port.name for f in report.findings):
        status = "UNKNOWN (its endpoint chains are not in the input)"
    elif any(h.ip in (None, "?") for p in pp.paths for h in p.endpoints):
        status = "UNKNOWN (where its endpoints send traffic is not in the input)"
    elif any(h.dnat_unseen for p in pp.paths for h in p.endpoints):
        status = "UNKNOWN (its endpoints' DNAT rules are not in the input)"
    elif any(h.port is None for p in pp.paths for h in p.endpoints):  # (an address from the endpoint chain's hairpin rule)
        status = "UNKNOWN (the port its endpoints' DNAT sends to is not in the input)"
    elif not report.service.from_api:
        status = "rules OK (not checked against the API)"
    else:
        status = style.paint("OK", "green")
    line = f"{port_title(pp)} → {where} — {status}"
    if any(not path.shown_port for path in pp.paths) and any(f.code == "hidden-port-match" for f in report.findings):
        full = f"{line}; the node's iptables hides the port match (harmless)"
        short = f"{line}; listing hides port"  # a narrow terminal: one row, the finding says the rest
        return short if width and len(_ANSI.sub("", full)) > width >= len(_ANSI.sub("", short)) else full
    return line


def verdict_lines(report: Report, style: Style, width: int | None = None) -> list[str]:
    """The verdict lines, folded to the width by what the terminal shows (colour codes do not count)."""
    from kubectl_svcpath.render.common import wrap_lines

    lines = [port_verdict(report, pp, style, width) for pp in report.ports] or [_no_port(report)]
    return [x for line in lines for x in ([line] if not width or len(_ANSI.sub("", line)) <= width
                                           else wrap_lines([line], width))]


def _no_port(report: Report) -> str:
    """No port to follow: what the input shows of the Service instead (a health check node port's rule alone)."""
    svc = report.service
    if svc.from_api:
        return "no service port to follow"
    if not svc.health_check_node_port:  # (a health check rule that an old iptables printed without its port)
        return "ports not in the input: the rules that name the Service show none of its ports — UNKNOWN"
    return (f"health check node port {svc.health_check_node_port}/TCP → accepted for kube-proxy's health check server "
            "(filter KUBE-NODEPORTS); the Service's ports, cluster IP and endpoints are not in the input — UNKNOWN")


def _why(f: Finding) -> str | None:
    if f.why:
        return f.why
    if f.detail:
        return f.detail[0].strip()
    return f.action


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_row(line: str, width: int | None) -> str:
    """The line cut to the terminal width with an ellipsis (colour codes do not count)."""
    visible = _ANSI.sub("", line)
    if not width or len(visible) <= width:
        return line
    extra = len(line) - len(visible)  # colour codes sit before the cut (the severity label)
    return line[: width - 1 + extra].rstrip() + "…"


def headline(f: Finding, style: Style, width: int | None) -> list[str]:
    """``  WARNING  code: message``, wrapped to ``width`` with its rows continued under the code."""
    text = f"{safe(f.code)}: {safe(f.message)}"
    indent = len(f"  {f.severity.upper()}  ")
    first = f"  {style.severity(f.severity)}  "
    if not width or indent + len(text) <= width:
        return [first + text]
    import textwrap

    rows = textwrap.wrap(text, width=max(width - indent, 30), break_on_hyphens=False)  # (a word longer than a row: cut)
    return [first + rows[0]] + [" " * indent + row for row in rows[1:]]


def short_findings(findings: list[Finding], style: Style, report: Report | None = None,
                   width: int | None = None) -> list[str]:
    """Each finding as its headline, whole (wrapped to the terminal, continued under its code: the
    statement is what the on-call reads), and one line of why cut to one terminal row."""
    if not findings:
        return ["Findings: none"]
    lines = ["Findings:"]
    for f in sorted_findings(findings, report):
        lines.extend(headline(f, style, width))
        why = _why(f)
        if why:
            lines.append(one_row(f"      {safe(why)}", width))
    return lines


def explained_findings(findings: list[Finding], style: Style, report: Report | None = None,
                       width: int | None = None) -> list[str]:
    """Every finding in full, fitted to ``width``: its headline as the short view has it (continued under the
    code), the rest under its own indent; a detail line already printed for an earlier finding is not repeated."""
    from kubectl_svcpath.render.common import wrap_lines

    if not findings:
        return ["Findings: none"]
    lines = ["Findings:"]
    printed: dict[str, str] = {}  # detail line -> the finding it was printed under
    for f in sorted_findings(findings, report):
        lines.extend(headline(f, style, width))  # (wrap_lines would count its colour codes as columns)
        lines.extend(wrap_lines(_explanation(f, printed), width))
    return lines


def _explanation(f: Finding, printed: dict[str, str]) -> list[str]:
    """A finding's lines under its headline: details (those ``printed`` under another finding named only),
    evidence, what to do."""
    lines: list[str] = []
    shared_with: list[str] = []
    for d in f.detail:
        if d in printed and d.strip():
            if printed[d] not in shared_with:  # said once, where the repeat would have started
                shared_with.append(printed[d])
                lines.append(f"      (the explanation under {safe(printed[d])} above applies here too)")
            continue
        printed.setdefault(d, f.code)
        lines.append(f"      {safe(d)}")
    lines.extend(f"      evidence: {safe(e)}" for e in f.evidence)
    if f.action:
        lines.append(f"      -> {safe(f.action)}")
    return lines

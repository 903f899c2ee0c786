"""``--all``: one line per Service (of a dump, or live of a namespace or the cluster), with its health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_svcpath.path import SEVERITY_ORDER
from kubectl_svcpath.render.common import local_only, wrap_lines
from kubectl_svcpath.render.plain import plain_table
from kubectl_svcpath.render.text import Style, safe
from kubectl_svcpath.report import Report
from kubectl_svcpath.wording import counted


UNKNOWN = "?: not in the input"  # HEALTH of a Service whose path the input does not show whole (never "ok")


def health(report: Report) -> str:
    worst = [f for f in report.findings if f.severity in ("error", "warning")]
    if not worst:
        if any(f.code == "chain-not-in-input" for f in report.findings) or _unseen_ports(report) \
                or any(path.endpoints_in_part or any(h.ip in (None, "?") or h.port is None for h in path.endpoints)
                       for p in report.ports for path in p.paths):
            return UNKNOWN
        return "ok"
    worst.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    codes = list(dict.fromkeys(f.code for f in worst))  # worst first, then in the findings' order (a set's order is random)
    return f"{worst[0].severity}: " + ",".join(codes)


def _unseen_ports(report: Report) -> bool:
    """A port of which the input shows no rule, and could not show them all (an excerpt): not "ok". So is a
    Service rebuilt from rules that name none of its ports (a filter table's health check rule alone)."""
    return any(not p.paths and not p.entries_complete for p in report.ports) or not (report.ports or report.service.from_api)


def _dropped(report: Report) -> bool:
    """Every way in ends in a Local policy's DROP: the rules show no endpoint on this node, not none at all."""
    paths = [path for p in report.ports for path in p.paths]
    return bool(paths) and all(path.verdict == "drop" for path in paths)


def rank(report: Report) -> int:
    """0 error, 1 warning, 2 healthy (info findings do not make a Service a problem)."""
    worst = [SEVERITY_ORDER[f.severity] for f in report.findings if f.severity in ("error", "warning")]
    return min(worst) if worst else 2


def order_key(report: Report) -> tuple[int, str, str]:
    return rank(report), report.service.namespace or "", report.service.name or ""


def totals(reports: list[Report]) -> dict[str, int]:
    counts = new_totals()
    for r in reports:
        count(counts, r)
    return counts


def new_totals() -> dict[str, int]:
    # ("unnamed": rows whose Service the input does not name - an ipvsadm listing's virtual servers, a service
    # chain no comment names -, counted in "services" too: two of them may be one Service's ports)
    # ("portless": Services rebuilt from rules that name none of their ports - a filter table's health check node
    # port rule alone -: their ports are not in the input, not 0)
    # ("endpointsNotInInput": Services whose ENDPOINTS reads "?" or "N+?": "endpoints" counts what the input shows of
    # theirs, so the total is a floor, said so)
    return {"services": 0, "ports": 0, "endpoints": 0, "error": 0, "warning": 0, "ok": 0, "unknown": 0, "unnamed": 0,
            "portless": 0, "endpointsNotInInput": 0}


def count(counts: dict[str, int], r: Report) -> None:
    """Add one Service to the totals of an audit."""
    add_line(counts, audit_line(r))


@dataclass(frozen=True, slots=True)
class AuditLine:
    """What an audit keeps of one Service: its place in the order, its row, what it adds to the totals."""

    key: tuple[int, str, str]  # order_key(): 0 error, 1 warning, 2 healthy; namespace; name
    row: dict[str, str]  # audit_row()
    ports: int
    endpoints: int
    bucket: str  # the totals' "error", "warning", "ok" or "unknown"
    unnamed: bool = False  # the input does not name its Service
    portless: bool = False  # rebuilt from rules that name none of its ports: its ports are not in the input
    endpoints_unseen: bool = False  # its endpoints are not all in the input (ENDPOINTS "?" or "N+?"; ``endpoints``: N)


def audit_line(r: Report, row: bool = True) -> AuditLine:
    """``row``: with the table's cells (-o json|yaml writes the report instead: its line is the order and the totals)."""
    level = rank(r)
    # no finding but a path the input does not show: "?", not "ok" (nothing proves it healthy)
    bucket = "unknown" if level == 2 and health(r).startswith("?") else ("error", "warning", "ok")[level]
    svc = r.service
    endpoints = _endpoints(r)
    proven = _proven(r, endpoints)
    unseen = _endpoints_unseen(r) or proven < len(endpoints)
    return AuditLine((level, svc.namespace or "", svc.name or ""), audit_row(r) if row else {}, len(r.ports),
                     proven if unseen else len(endpoints), bucket, not svc.name, not (r.ports or svc.from_api), unseen)


def add_line(counts: dict[str, int], line: AuditLine) -> None:
    counts["services"] += 1
    counts["ports"] += line.ports
    counts["endpoints"] += line.endpoints
    counts[line.bucket] += 1
    counts["unnamed"] += line.unnamed
    counts["portless"] += line.portless
    counts["endpointsNotInInput"] += line.endpoints_unseen


def totals_line(t: dict[str, int], shown: int | None = None) -> str:
    unnamed = t.get("unnamed", 0)
    named = t["services"] - unnamed
    # (rows the input names no Service for are not counted as Services: two of them may be one Service's ports)
    rows = counted(named, "Service")
    if unnamed:
        entries = f"{counted(unnamed, 'entry', 'entries')} ({'Service' if unnamed == 1 else 'Services'} not named in the input)"
        rows = f"{rows} and {entries}" if named else entries
    head = f"{rows}, {_ports_total(t)}: "
    line = head + f"{counted(t['error'], 'error')}, {counted(t['warning'], 'warning')}, {t['ok']} ok"
    if t.get("unknown"):
        line += f", {t['unknown']} not in the input"
    if shown is not None and shown != t["services"]:
        line += f" ({shown} shown: --problems)"
    return line


def _ports_total(t: dict[str, int]) -> str:
    """The ports and endpoints counted, and the Services whose ports the input does not show (never "0 ports")."""
    counts, portless = f"{counted(t['ports'], 'port')}, {_endpoints_total(t)}", t.get("portless", 0)
    if not portless:
        return counts
    if portless == t["services"]:
        return f"{'its' if portless == 1 else 'their'} ports and endpoints not in the input"
    return f"{counts} (and {counted(portless, 'Service')} whose ports and endpoints are not in the input)"


def _endpoints_total(t: dict[str, int]) -> str:
    """The endpoints counted, never a floor said as a count: "6 endpoints seen (those of 2 Services not all in the input)"."""
    unseen = t.get("endpointsNotInInput", 0)
    if not unseen:
        return counted(t["endpoints"], "endpoint")
    if unseen == t["services"]:
        return f"{counted(t['endpoints'], 'endpoint')} seen (not all in the input)" if t["endpoints"] else "endpoints not in the input"
    return f"{counted(t['endpoints'], 'endpoint')} seen (those of {counted(unseen, 'Service')} not all in the input)"


def _endpoints_unseen(r: Report) -> bool:
    """A path the input does not show to its end, or shows only some endpoint jumps of (ENDPOINTS "?" or "N+?")."""
    return any(path.verdict == "not-in-input" or path.endpoints_in_part for p in r.ports for path in p.paths) \
        or _unseen_ports(r)


def _endpoints(r: Report) -> set[str]:
    """Pods, not pod:port pairs; an endpoint chain whose DNAT the input does not show counts once, by its chain."""
    return {h.ip if h.ip not in (None, "?") else f"chain {h.chain}" for p in r.ports for path in p.paths for h in path.endpoints}


def _proven(r: Report, endpoints: set[str]) -> int:
    """How many of ``endpoints`` are surely distinct pods: all of them, unless an endpoint chain whose DNAT the input
    does not show stands for one (the same pod behind two ports has a chain for each); then the most one port has."""
    if len(r.ports) < 2 or not any(e.startswith("chain ") for e in endpoints):
        return len(endpoints)
    return max(len({h.ip if h.ip not in (None, "?") else f"chain {h.chain}" for path in p.paths for h in path.endpoints})
               for p in r.ports)


# (header, drop order when the terminal is too narrow: higher goes first; 0 = kept)
_COLUMNS = [("NAMESPACE", 0), ("NAME", 0), ("TYPE", 3), ("CLUSTER-IP", 2), ("PORTS", 1), ("ENDPOINTS", 0),
            ("PKTS", 4), ("HEALTH", 0)]


_HEALTH_ROOM = 16  # columns a cut HEALTH cell keeps at least: "warning: no-lo…"


def scope_lines(scope: dict[str, Any]) -> list[str]:
    """Live --all: what was read - the namespace(s), the one node whose rules every Service is set against, and why that node."""
    where = f"namespace {safe(scope['namespace'])}" if scope.get("namespace") else "all namespaces"
    if scope.get("selector"):
        where += f", Services matching {safe(scope['selector'])}"
    mode = safe(scope.get("proxyMode") or "?") + (f" ({safe(scope['backend'])})" if scope.get("backend") else "")
    rules = f"Rules:    {mode} mode, node {safe(scope['node'])}"
    if scope.get("kubeProxyPod"):
        rules += f", read in pod {safe(scope['kubeProxyPod'])}"
    if scope.get("collectedAt"):
        rules += f", collected {safe(scope['collectedAt'])}"
    return [f"Audit:    {where}, against the rules of node {safe(scope['node'])}: {safe(scope.get('nodeChosenBy') or '')}", rules]


def audit_row(r: Report) -> dict[str, str]:
    """The cells of a Service's line, worked out when it is analysed: an audit keeps these, not the reports."""
    svc = r.service
    ports = ",".join(f"{p.port.port or '?'}{'/' + p.port.protocol if p.port.protocol != 'TCP' else ''}"
                     + (f":{p.port.node_port}" if p.port.node_port else "") for p in r.ports)
    endpoints = _endpoints(r)
    proven = _proven(r, endpoints)
    pkts = [path.packets for p in r.ports for path in p.paths if path.packets is not None]
    unknown_eps = _endpoints_unseen(r)
    ips = ",".join(svc.cluster_ips) or ("-" if svc.from_api else "?")
    name = svc.name or "?"
    if not svc.name and r.ports:  # a Service only its chain names: say which chain
        key = str(r.ports[0].port.rules_key)
        name += f" ({r.ports[0].service_chain or (key.split('|')[0] + ('…' if '|' in key else '') if ' ' in key else 'KUBE-SVC-' + key)})"
    return {"NAMESPACE": safe(svc.namespace or "?"), "NAME": safe(name), "TYPE": safe(svc.type or "?"),
            "CLUSTER-IP": safe(ips), "PORTS": safe(ports or ("" if svc.from_api else "?")),
            "ENDPOINTS": f"{proven}+?" if (unknown_eps or proven < len(endpoints)) and endpoints else "?" if unknown_eps else
                         "0 local" if not endpoints and _dropped(r) else
                         f"{len(endpoints)} local" if not svc.from_api and all(local_only(p.paths) for p in r.ports) else str(len(endpoints)),
            "PKTS": str(sum(pkts)) if pkts else "-", "HEALTH": safe(health(r)), "NODE": safe(r.host or "?")}


def _cut_health(line: str, at: int, width: int) -> str:
    """A row whose HEALTH codes run past the terminal: the codes that fit whole and how many more
    ("warning: hidden-mark-match +1 more"), where at least one fits; else cut at the edge ("warning: no-lo…")."""
    severity, sep, codes = line[at:].partition(": ")
    names = codes.split(",") if sep else []
    for k in range(len(names) - 1, 0, -1):
        cell = f"{severity}: {','.join(names[:k])} +{len(names) - k} more"
        if at + len(cell) <= width:
            return line[:at] + cell
    return line[: width - 1] + "…"


def render_rows(rows: list[dict[str, str]], style: Style, wide: bool, width: int | None, all_totals: dict[str, int],
                shown: int | None, notes: list[str] | None, scope: dict[str, Any] | None = None,
                namespace: str | None = None) -> str:
    """The audit table from its rows (in order), the totals line (``shown``: how many of them --problems kept),
    notes; ``scope`` (live): the namespace(s) and the node read, as two header lines; ``namespace`` (offline -n): the
    namespace the rows were kept of."""
    cols = list(_COLUMNS)
    if len({row.get("NODE") for row in rows}) > 1:  # one paste of several nodes' tables: whose row it is
        cols.insert(0, ("NODE", 0))
    hidden: list[str] = []
    while True:
        names = [c[0] for c in cols]
        text = plain_table([[row[n] for n in names] for row in rows], names)
        too_wide = width is not None and not wide and max((len(x) for x in text.splitlines()), default=0) > width
        droppable = [c for c in cols if c[1] > 0]
        if not too_wide or not droppable:
            break
        drop = max(droppable, key=lambda c: c[1])
        cols.remove(drop)
        hidden.append(drop[0])
    lines = text.splitlines()
    short = width is not None and not wide and width - lines[0].find("HEALTH") < len(UNKNOWN) \
        and any(row["HEALTH"] == UNKNOWN for row in rows)
    if short:  # (cut, it read "?: not in the inp…"): "?" in the cell, said once under the table
        lines = plain_table([[("?" if n == "HEALTH" and row[n] == UNKNOWN else row[n]) for n in names] for row in rows],
                            names).splitlines()
    # still too wide: the HEALTH codes are cut, -o wide shows them whole; when the cut would leave no readable code
    # ("error: no-endp…" needs room), the rows are left whole to the terminal, as kubectl leaves its rows
    if width is not None and not wide and width - lines[0].find("HEALTH") >= _HEALTH_ROOM:
        lines = [x if len(x) <= width else _cut_health(x, lines[0].find("HEALTH"), width) for x in lines]
    if style.color:
        lines = [x.replace("error: ", style.paint("error: ", "red"), 1).replace("warning: ", style.paint("warning: ", "yellow"), 1)
                 for x in lines]
    if not rows and shown is not None:  # --problems, and every Service audited is healthy
        lines = ["No Service with a problem."]
    elif not rows:
        lines = [f"No Service in namespace {safe(scope['namespace'])}." if scope and scope.get("namespace")
                 else "No Service in the cluster." if scope else
                 f"No Service of namespace {safe(namespace)} in the input." if namespace else "No Service in the input."]
    head = wrap_lines(scope_lines(scope), None if wide else width) + [""] if scope else []
    below = [totals_line(all_totals, shown)] + ([f"(-o wide adds {', '.join(hidden)})"] if hidden else []) \
        + (["(HEALTH ?: not in the input)"] if short else [])
    out = head + lines + [""] + wrap_lines(below + [f"Note: {safe(n)}" for n in notes or []], None if wide else width)
    return "\n".join(out) + "\n"

"""``--all``: one line per Service found in a dump, with its health."""

from __future__ import annotations

import tabulate as _tabulate_module
from tabulate import tabulate

_tabulate_module.MIN_PADDING = 0  # kubectl-like: columns as wide as their widest cell, two spaces apart

from kubectl_svcpath.path import SEVERITY_ORDER
from kubectl_svcpath.render.text import Style, safe
from kubectl_svcpath.report import Report


def health(report: Report) -> str:
    worst = [f for f in report.findings if f.severity in ("error", "warning")]
    if not worst:
        if any(f.code == "chain-not-in-input" for f in report.findings):
            return "?: chain not in the input"
        return "ok"
    worst.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    codes = sorted({f.code for f in worst}, key=lambda c: next(SEVERITY_ORDER[f.severity] for f in worst if f.code == c))
    return f"{worst[0].severity}: " + ",".join(codes)


def render_audit(reports: list[Report], style: Style, wide: bool = False, notes: list[str] | None = None) -> str:
    headers = ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "PORTS", "ENDPOINTS", "PKTS", "HEALTH"]
    rows = []
    for r in reports:
        svc = r.service
        ports = ",".join(f"{p.port.port or '?'}{'/' + p.port.protocol if p.port.protocol != 'TCP' else ''}"
                         + (f":{p.port.node_port}" if p.port.node_port else "") for p in r.ports)
        endpoints = {h.ip for p in r.ports for path in p.paths for h in path.endpoints}  # pods, not pod:port pairs
        pkts = [path.packets for p in r.ports for path in p.paths if path.packets is not None]
        h = health(r)
        if style.color and h != "ok":
            h = style.paint(h, "red" if h.startswith("error") else "yellow")
        unknown_eps = any(path.verdict == "not-in-input" for p in r.ports for path in p.paths)
        ips = ",".join(svc.cluster_ips) or ("-" if svc.from_api else "?")
        name = svc.name or "?"
        if not svc.name and r.ports:
            key = str(r.ports[0].port.rules_key)
            name += f" ({r.ports[0].service_chain or (key.split('|')[0] + ('…' if '|' in key else '') if ' ' in key else 'KUBE-SVC-' + key)})"
        rows.append([safe(svc.namespace or "?"), safe(name), safe(svc.type or "?"), safe(ips), safe(ports),
                     f"{len(endpoints)}+?" if unknown_eps and endpoints else "?" if unknown_eps else str(len(endpoints)),
                     str(sum(pkts)) if pkts else "-", h])
    table = tabulate(rows, headers=headers, tablefmt="plain", disable_numparse=True) + "\n"
    if not rows:
        table = "No Service in the input.\n"
    return table + "".join(f"Note: {safe(n)}\n" for n in notes or [])

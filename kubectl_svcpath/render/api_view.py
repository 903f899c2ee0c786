"""A report without the node's rules (exec forbidden, no kube-proxy pod, exec failing): what the API shows.

Ports, the addresses they are reached on, node ports and the EndpointSlices' endpoints with their
conditions, and the node that was chosen; the rules are marked "not read" with the reason and the
hint. Nothing here says where packets go: that needs the rules.
"""

from __future__ import annotations


from kubectl_svcpath.render.common import header_lines, wrap_lines
from kubectl_svcpath.render.plain import plain_table
from kubectl_svcpath.render.text import Style, safe
from kubectl_svcpath.report import Report
from kubectl_svcpath.snapshot import Endpoint



def _cond(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def _endpoint_cells(ep: Endpoint) -> list[str]:
    port = ep.port if ep.port is not None else "?"
    addr = f"[{ep.ip}]:{port}" if ":" in ep.ip else f"{ep.ip}:{port}"
    return [safe(addr), _cond(ep.ready), _cond(ep.serving), _cond(ep.terminating), safe(ep.node or "-")]


_HEADERS = ["PORT", "ADDRESSES", "NODE-PORT", "ENDPOINT", "READY", "SERVING", "TERMINATING", "NODE"]


def _state(ready: str, serving: str, terminating: str) -> str:
    """The three conditions in one cell, in the path table's words (a narrow terminal)."""
    if terminating == "yes":
        return "serving,terminating" if serving == "yes" else "terminating"
    return {"yes": "ready", "no": "not-ready"}.get(ready, ready)


def _table(rows: list[list[str]], width: int | None) -> tuple[str, list[str]]:
    """The table, and what is said below it; the conditions share one STATE column when it is too wide, and the
    endpoints' NODE is left out when that is still too wide (port names and addresses are long: 83 columns for
    "port-v1 39090/TCP" at 10.101.173.15:39090); past that the rows are printed whole, as kubectl prints its rows."""
    table = plain_table(rows, _HEADERS)
    if width is None or _widest(table) <= width:
        return table, []
    narrow = [[*r[:4], _state(*r[4:7]) if r[4] else "", r[7]] for r in rows]
    merged = any(r[4] for r in rows)
    table = plain_table(narrow, [*_HEADERS[:4], "STATE", "NODE"])
    if _widest(table) <= width:
        return table, ["(-o wide shows READY, SERVING and TERMINATING apart)"] if merged else []
    table = plain_table([r[:5] for r in narrow], [*_HEADERS[:4], "STATE"])
    return table, ["(-o wide adds NODE" + (", and shows READY, SERVING and TERMINATING apart)" if merged else ")")]


def _widest(table: str) -> int:
    return max(len(line) for line in table.splitlines())


def render_api_view(report: Report, style: Style, width: int | None = None) -> str:
    why = report.rules_not_read
    assert why is not None
    svc = report.service
    head = header_lines(report)
    lines = [head[0]]
    where = f"on node {safe(report.node)}" if report.node else "(no node chosen)"
    lines.append(f"Rules:    {style.paint('NOT READ', 'red')} {where}: {safe(why.message)}")
    if why.hint:
        lines.append(f"          hint: {safe(why.hint)}")
    lines += [h for h in head[1:] if h.startswith("Policy:")]
    rows = []
    addresses = [ip for kind, ip in svc.entry_addresses()]
    for p in svc.ports:
        dests = [safe(f"[{ip}]:{p.port}" if ":" in ip else f"{ip}:{p.port}") for ip in addresses] or ["-"]
        eps = svc.port_endpoints(p)
        if not eps:
            none = "none (no EndpointSlice)" if not svc.has_slices else "none in the EndpointSlices"
            cells = [[none, "", "", "", ""]]
        else:
            cells = [_endpoint_cells(ep) for ep in eps]
        # one address a row (a LoadBalancer's cluster, external and ingress addresses stack, not widen)
        for i in range(max(len(dests), len(cells))):
            first = [safe(p.label), dests[0], str(p.node_port) if p.node_port else "-"] if i == 0 else \
                ["", dests[i] if i < len(dests) else "", ""]
            rows.append([*first, *(cells[i] if i < len(cells) else ["", "", "", "", ""])])
    table, under = _table(rows, width)
    below = [f"From the API only: kube-proxy's rules {where} were not read, so the paths, counters and "
             "findings are not in this report."]
    return "\n".join(wrap_lines(lines, width) + ["", table, *under, ""] + wrap_lines(below, width)) + "\n"

"""``-o table`` and ``-o wide``: one row per entry path and endpoint, kubectl-style columns."""

from __future__ import annotations

from kubectl_svcpath.path import EndpointHop, EntryPath
from kubectl_svcpath.render.common import (conns_cell, destination, dnat_mark, endpoint_state, header_lines, left_out_state,
                                           notes_lines, wrap_lines)
from kubectl_svcpath.render.plain import plain_table
from kubectl_svcpath.render.text import Style, human_bytes, human_count, safe, share
from kubectl_svcpath.report import Report

# (header, wide-only, drop order when the terminal is too narrow: higher goes first)
_COLUMNS = [
    ("PORT", False, 0), ("ENTRY", False, 4), ("DESTINATION", False, 0), ("PKTS", False, 2),
    ("BYTES", True, 0), ("CHAINS", True, 0), ("SERVICE-CHAIN", False, 6), ("ENDPOINT-CHAIN", True, 0),
    ("ENDPOINT", False, 0), ("SHARE", False, 3), ("EP-PKTS", False, 5), ("EP-BYTES", True, 0),
    ("ACT/INACT", False, 2),  # IPVS only: ipvsadm's ActiveConn/InActConn of each real server
    ("NODE", True, 0), ("STATE", False, 1),
]


MISSING_ROWS = 20  # ready endpoints without a rule shown one per row; the rest counted on one row


def _rows(report: Report) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for pp in report.ports:
        label = pp.port.label
        if not pp.paths and not pp.entries_complete:  # an excerpt: a rule it does not show may exist
            rows.append({"PORT": label, "ENTRY": "?", "DESTINATION": "not in the input", "ENDPOINT": "?", "STATE": "?"})
        elif not pp.paths:
            rows.append({"PORT": label, "ENTRY": "-", "DESTINATION": "-", "ENDPOINT": "NO RULES", "STATE": "not programmed"})
        for path in pp.paths:
            base = _path_cells(label, path)
            label = ""  # the port name only on its first row, like kubectl's grouped output
            if path.verdict in ("reject", "drop"):
                what = "REJECT (no endpoints)" if path.verdict == "reject" else "DROP (no local endpoints)"
                rows.append({**base, "ENDPOINT": what, "STATE": path.verdict})
                continue
            if path.verdict == "not-in-input":
                shown = "in the input in part" if path.unseen else "not in the input"  # (its rules are there, the way on is not)
                rows.append({**base, "ENDPOINT": f"{path.chains[-1]}: {shown}", "STATE": "?"})
                continue
            if not path.endpoints:
                rows.append({**base, "ENDPOINT": "-" if path.verdict == "forward" else path.verdict.upper(), "STATE": "no endpoints"})
                continue
            for i, hop in enumerate(path.endpoints):
                cells = base if i == 0 else {k: "" for k in base}
                rows.append({**cells, **_endpoint_cells(hop)})
        for hop in pp.missing_endpoints[:MISSING_ROWS]:
            rows.append({"PORT": label, "ENTRY": "", "DESTINATION": "", **_endpoint_cells(hop), "STATE": "MISSING (no rule)"})
            label = ""
        more = len(pp.missing_endpoints) - MISSING_ROWS
        if more > 0:  # a table for reading: -o json lists them all
            rows.append({"PORT": "", "ENTRY": "", "DESTINATION": "", "ENDPOINT": f"... {more} more",
                         "STATE": "MISSING (no rule)"})
    return rows


def left_out_lines(report: Report) -> list[str]:
    """Endpoints of the slices this node has no rule for, and why: prose under the table (it folds)."""
    lines: list[str] = []
    for pp in report.ports:
        for hop in pp.left_out_endpoints[:MISSING_ROWS]:
            lines.append(f"  {safe(pp.port.label)}  {safe(hop.hostport)}  {safe(left_out_state(hop))}")
        more = len(pp.left_out_endpoints) - MISSING_ROWS
        if more > 0:
            lines.append(f"  {safe(pp.port.label)}  ... {more} more (-o json lists them all)")
    return ["Not programmed on this node, and why:", *lines] if lines else []


def _path_cells(label: str, path: EntryPath) -> dict[str, str]:
    return {
        "PORT": label,
        "ENTRY": path.entry or "?",
        "DESTINATION": destination(path) + ("" if path.shown_port else "*"),
        "PKTS": human_count(path.packets),
        "BYTES": human_bytes(path.bytes),
        "CHAINS": " > ".join(_leading(path)) or "-",
        "SERVICE-CHAIN": path.policy_chain or "-",
    }


def _leading(path: EntryPath) -> list[str]:
    """The chains a packet goes through to the service chain (IPVS: to the virtual server): the SERVICE-CHAIN
    column beside them names that one (-o wide printed it twice, "KUBE-SERVICES > KUBE-SVC-X  KUBE-SVC-X",
    "IPVS TCP 10.0.0.10:53  TCP 10.0.0.10:53"); a path with no service chain, whole."""
    if path.policy_chain and path.chains and path.chains[-1] in (path.policy_chain, f"IPVS {path.policy_chain}"):
        return path.chains[:-1]
    return path.chains


def _endpoint_cells(hop: EndpointHop) -> dict[str, str]:
    ep = hop.hostport
    if hop.weight is not None:
        ep += f" w{hop.weight}"
    return {
        "ENDPOINT-CHAIN": hop.chain or "-",
        "ENDPOINT": ep + (" (affinity)" if hop.affinity else ""),
        "SHARE": share(hop.probability),
        "EP-PKTS": human_count(hop.packets),
        "EP-BYTES": human_bytes(hop.bytes),
        **({"ACT/INACT": conns_cell(hop.conns)} if hop.conns is not None else {}),
        "NODE": hop.node or "-",
        "STATE": endpoint_state(hop, brief=True) + dnat_mark(hop),
    }


def render_table(report: Report, style: Style, wide: bool = False, width: int | None = None, explain: bool = False) -> str:
    """Verdict lines first, then the header, the path table and the findings.

    By default the findings are a headline and one line of why each, and the header leaves out the
    list of sources; --explain (or -o wide) prints them in full.
    """
    from kubectl_svcpath.render.verdict import EXPLAIN_HINT, explained_findings, short_findings, verdict_lines

    full = wide or explain
    rows = _rows(report)
    ipvs = any("ACT/INACT" in r for r in rows)  # the column only where ipvsadm lists connections per real server
    columns = [c for c in _COLUMNS if (wide or not c[1]) and (ipvs or c[0] != "ACT/INACT")]
    table, hidden = _fit(columns, rows, width if not wide else None, style)
    below = []
    if any(not path.shown_port and path.entry for pp in report.ports for path in pp.paths):
        below.append("* the rule as listed shows no port match (see the findings)")
    if ipvs and "ACT/INACT" not in hidden:  # ("-" explained where a cell shows it)
        below.append("ACT/INACT: active/inactive connections now (ipvsadm -Ln or /proc/net/ip_vs)"
                     + ("; -: not in the input" if any("-" in r.get("ACT/INACT", "") for r in rows) else ""))
    if hidden:
        below.append(f"(-o wide adds {', '.join(hidden)})")
    header = header_lines(report)
    if not full:
        header = [h for h in header if not h.startswith("          ")]  # the sources: one line each
    findings = (explained_findings(report.findings, style, report, width) if full
                else short_findings(report.findings, style, report, width))  # already fitted to the width
    if not full and report.findings:
        findings.append(EXPLAIN_HINT)
    left = left_out_lines(report)
    parts = (verdict_lines(report, style, width) + [""]
             + wrap_lines(header + notes_lines(report), width)
             + (["", table, *wrap_lines(below, width), ""] if rows else [""])  # no port: no table, not its header alone
             + (wrap_lines(left, width) + [""] if left else [])
             + findings)
    return "\n".join(parts) + "\n"


def _fit(columns: list[tuple[str, bool, int]], rows: list[dict[str, str]], width: int | None,
         style: Style) -> tuple[str, list[str]]:
    """Drop the least useful columns until the table fits the terminal (``-o wide`` shows all)."""
    cols = list(columns)
    hidden: list[str] = []
    while True:
        text = _table_text(cols, rows, style)
        droppable = [c for c in cols if c[2] > 0]
        if width is None or max((len(line) for line in text.splitlines()), default=0) <= width or not droppable:
            return text, hidden
        drop = max(droppable, key=lambda c: c[2])
        cols.remove(drop)
        hidden.append(drop[0])


def _table_text(cols: list[tuple[str, bool, int]], rows: list[dict[str, str]], style: Style) -> str:
    names = [c[0] for c in cols]
    body = [[safe(r.get(n, "")) for n in names] for r in rows]
    text = plain_table(body, names)
    if style.color:
        text = text.replace("STALE", style.paint("STALE", "red")).replace("MISSING (no rule)", style.paint("MISSING (no rule)", "red"))
    return text

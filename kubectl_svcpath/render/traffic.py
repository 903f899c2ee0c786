"""The traffic between two samples (--since, --watch): per hop, packets and bytes in the interval and
per second, and per endpoint the observed split beside the programmed probability."""

from __future__ import annotations

import json
from typing import Any


from kubectl_svcpath.render.common import wrap_lines
from kubectl_svcpath.render.plain import plain_table
from kubectl_svcpath.render.text import Style, human_bytes, safe, share
from kubectl_svcpath.render.verdict import short_findings
from kubectl_svcpath.report import Report
from kubectl_svcpath.traffic import Traffic


def _count(value: int | None, reset: bool) -> str:
    return "reset" if reset else ("-" if value is None else str(value))


def _rate(t: Traffic, value: int | None, reset: bool) -> str:
    r = t.rate(value)
    return "reset" if reset else ("-" if r is None else f"{r:.1f}")


_HEADERS = ["PORT", "HOP", "PKTS", "PKTS/S", "BYTES", "SPLIT", "PROGRAMMED"]


def _rows(t: Traffic) -> list[list[str]]:
    rows = []
    for p in t.ports:
        label = safe(p.port)
        for h in p.entries:
            rows.append([label, safe(h.hop), _count(h.packets, h.reset), _rate(t, h.packets, h.reset),
                         "reset" if h.reset else human_bytes(h.bytes), "", ""])
            label = ""
        for h in p.endpoints:
            rows.append([label, "→ " + safe(h.hop), _count(h.packets, h.reset), _rate(t, h.packets, h.reset),
                         "reset" if h.reset else human_bytes(h.bytes), share(h.observed), share(h.programmed)])
            label = ""
    return rows


def _table(rows: list[list[str]], width: int | None) -> list[str]:
    """One table; when it is wider than the terminal, each port heads its own rows instead of a PORT column."""
    lines = plain_table(rows, _HEADERS).splitlines()
    if width is None or max(map(len, lines), default=0) <= width:
        return lines
    body = plain_table([r[1:] for r in rows], _HEADERS[1:]).splitlines()
    out = ["  " + body[0]]
    for row, line in zip(rows, body[1:], strict=True):
        if row[0]:
            out.append(row[0])
        out.append("  " + line)
    return out


def render_traffic(t: Traffic, style: Style, width: int | None = None) -> str:
    span = (f"{t.seconds:g}s" if t.seconds is not None else "interval not in the input: the samples carry no time")
    head = f"Traffic {safe(t.before or '?')} → {safe(t.after or '?')} ({span}):"
    lines = wrap_lines([head], width) + _table(_rows(t), width)
    if t.findings:
        lines += [""] + short_findings(t.findings, style, None, width)
    return "\n".join(lines) + "\n"


def with_traffic(report: Report, t: Traffic, fmt: str, compact: bool = False) -> str:
    """The report's document with a ``traffic`` part; compact: one JSON line (a --watch stream)."""
    from kubectl_svcpath.render import render_document

    doc: dict[str, Any] = {**report.to_dict(), "traffic": t.to_dict()}
    if compact and fmt == "json":
        return json.dumps(doc, separators=(",", ":")) + "\n"
    text = render_document(doc, fmt)
    return ("---\n" + text) if compact and fmt == "yaml" else text

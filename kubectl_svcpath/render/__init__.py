"""Renderers get a finished Report and return text; they never fetch anything."""

from __future__ import annotations

from kubectl_svcpath.render.text import Style
from kubectl_svcpath.report import Report


def render_report(report: Report, fmt: str, style: Style, width: int | None = None, explain: bool = False) -> str:
    if fmt in ("json", "yaml"):
        from kubectl_svcpath.render.structured import json_pieces, yaml_lines

        # the document (~1 KB of dicts per endpoint) is freed before its text is joined
        return "".join(json_pieces(report.to_dict())) if fmt == "json" else "\n".join(yaml_lines(report.to_dict()))
    if report.rules_not_read is not None:
        from kubectl_svcpath.render.api_view import render_api_view

        return render_api_view(report, style, None if fmt == "wide" else width)
    if fmt == "tree":
        from kubectl_svcpath.render.tree import render_tree

        return render_tree(report, style, width, explain)
    from kubectl_svcpath.render.table import render_table

    return render_table(report, style, wide=fmt == "wide", width=width, explain=explain)


def render_document(doc: object, fmt: str) -> str:
    from kubectl_svcpath.render.structured import render_json, render_yaml

    return render_json(doc) if fmt == "json" else render_yaml(doc)

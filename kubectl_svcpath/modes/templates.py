"""The memo behind the one-pass audits (modes/iptables/audit.py, audit_api.py, modes/nftables/audit.py),
and the recipe both modes make a template's rows from.

Services whose footprints make the same template get the same row but for their own values. The
first Service of a template gets the full analysis, and the recipe for the others' rows is made
from it; a template whose first row cannot be made a recipe is NOT_FAST: each of its Services is
analysed in full, as is any Service without a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

NOT_FAST: Any = object()


@dataclass(slots=True)
class Recipe:
    """A template's row: the first Service's, with the cells that hold values rebuilt per Service."""

    line: Any  # the first Service's audit line (render.audit.AuditLine)
    cluster_ips: list[str | int]  # literal text, or the index of an address
    ports: list[str | int]  # literal text, or the index of a port
    pkts: list[int] | None = None  # counters summed into PKTS (iptables); None: "-"


def split_cell(cell: str, pattern: re.Pattern[str], values: list[str]) -> list[str | int] | None:
    """A row's ``cell`` as literal text and indexes into the Service's ``values`` (``pattern``'s one group
    finds them); None when it shows a value the template does not hold."""
    out: list[str | int] = []
    for i, part in enumerate(pattern.split(cell)):
        if i % 2 == 0:
            out.append(part)
        elif part in values:
            out.append(values.index(part))
        else:
            return None
    return out


class TemplateRows:
    def __init__(self) -> None:
        self.memo: dict[Hashable, Any] = {}  # template key -> recipe, or NOT_FAST

    def recipe(self, key: Hashable) -> Any:
        """The template's recipe when its rows can be derived from it, else None (not met yet, or NOT_FAST).
        (A caller that derives most rows asks this first: no closures made for ``line``.)"""
        recipe = self.memo.get(key)
        return None if recipe is NOT_FAST else recipe

    def line(self, key: Hashable, derive: Callable[[Any], Any], analyse: Callable[[], tuple[Any, Any]],
             recipe_of: Callable[[Any, Any], Any]) -> Any:
        """A Service's audit line: ``derive(recipe)`` when its template (``key``) has one, else the line of
        ``analyse()`` (report, line), whose ``recipe_of(report, line)`` is kept for the template's others.
        (A Service without a template is the caller's: it takes ``analyse()`` itself.)"""
        recipe = self.memo.get(key)
        if recipe is not None and recipe is not NOT_FAST:
            return derive(recipe)
        report, line = analyse()
        if recipe is None:  # the first of its template
            self.memo[key] = recipe_of(report, line)
        return line

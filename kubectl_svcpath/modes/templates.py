"""The memo behind the one-pass audits (modes/iptables/audit.py, audit_api.py, modes/nftables/audit.py).

Services whose footprints make the same template get the same row but for their own values. The
first Service of a template gets the full analysis, and the recipe for the others' rows is made
from it; a template whose first row cannot be made a recipe is NOT_FAST: each of its Services is
analysed in full, as is any Service without a template.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

NOT_FAST: Any = object()


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

"""Fields of API objects that no shape check has vouched for (Pods, Nodes): a value of another kind than
the API writes there - a list for a mapping, a number for a name - is taken as absent, never a traceback.
Services and EndpointSlices are checked whole against their shapes first (apishape)."""

from __future__ import annotations

from typing import Any


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]…``, or None where a step is missing or is no mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(obj: Any, *keys: str) -> str | None:
    """The string at ``keys``, or None (missing, or of another kind)."""
    value = dig(obj, *keys)
    return value if isinstance(value, str) else None


def items(obj: Any, *keys: str) -> list[Any]:
    """The list at ``keys`` (every item, of whatever kind), or []."""
    value = dig(obj, *keys)
    return value if isinstance(value, list) else []


def words(obj: Any, *keys: str) -> list[str]:
    """The strings of the list at ``keys`` (a container's command, its args)."""
    return [v for v in items(obj, *keys) if isinstance(v, str)]


def addresses(node: Any) -> list[str]:
    """A Node's InternalIP and ExternalIP addresses, in the order of status.addresses."""
    return [a["address"] for a in items(node, "status", "addresses")
            if text(a, "type") in ("InternalIP", "ExternalIP") and text(a, "address")]

"""``-o json`` and ``-o yaml``: one document from Report.to_dict(); ASCII-escaped.

The YAML is written here, block style as ``yaml.safe_dump(default_flow_style=False)`` writes
it: PyYAML's emitter (even with libyaml) builds a node graph first and took 50 s and 2.6 GB for
a Service with 10^5 endpoints; this takes a few seconds. Strings that could read as anything
but a string are double-quoted with escapes, so the document loads back as it was made.
"""

from __future__ import annotations

import json
import math
import re
from enum import Enum
from collections.abc import Callable, Iterable
from typing import Any


def render_json(doc: Any) -> str:
    # ensure_ascii escapes DEL and C1 control bytes too, so hostile comments stay inert;
    # allow_nan=False: NaN/Infinity are not JSON (finite() has already replaced them)
    return json.dumps(finite(doc), indent=2, ensure_ascii=True, allow_nan=False) + "\n"


_ITEMS = "svcpath-items-placeholder"


def render_item(item: Any, fmt: str) -> str:
    """One element of a document's ``items``, rendered as write_list() places it (an audit renders
    each Service as it is analysed and keeps this text, not the report)."""
    if fmt == "json":
        text = json.dumps(finite(item), indent=2, ensure_ascii=True, allow_nan=False)
        return "    " + text.replace("\n", "\n    ")
    out: list[str] = []
    _block([finite(item)], "", out)
    return "\n".join(out)


def write_list(doc: dict[str, Any], items: Iterable[str], fmt: str, write: Callable[[str], Any]) -> None:
    """``doc`` with ``items`` (texts from render_item, in order) as its "items", written piece by
    piece: the same text as rendering the document whole, never held whole (an audit of 10,000
    Services is ~90 MB of JSON)."""
    whole = {**doc, "items": [_ITEMS]}
    if fmt == "json":
        text, marker, sep, empty = render_json(whole), f'"items": [\n    "{_ITEMS}"\n  ]', ",\n", '"items": []'
    else:
        text, marker, sep, empty = render_yaml(whole), f"items:\n- {_ITEMS}\n", "\n", "items: []\n"
    head, _, tail = text.partition(marker)
    write(head)
    first = True
    for item in items:
        write(("items:\n" if fmt != "json" else '"items": [\n') if first else sep)
        write(item)
        first = False
    write(empty if first else ("\n" if fmt != "json" else "\n  ]"))
    write(tail)


def finite(doc: Any) -> Any:
    """``doc`` with NaN and infinities (from a manifest's ``.nan``, a dump's odd number) as null."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: finite(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [finite(v) for v in doc]
    return doc


def render_yaml(doc: Any) -> str:
    out: list[str] = []
    _block(finite(doc), "", out)
    return "\n".join(out) + "\n"


_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@-]*(?: [A-Za-z0-9_./@()-]+)*")
_RESERVED = re.compile(r"(?i:y|n|yes|no|true|false|on|off|null|~|\.nan|\.inf|[-+]?\.inf)$|[-+0-9.]")
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    s = v.value if isinstance(v, Enum) else str.__str__(v) if isinstance(v, str) else str(v)  # str Enums as json writes them
    if _PLAIN.fullmatch(s) and not _RESERVED.match(s):
        return s
    return '"' + _NEEDS_ESCAPE.sub(_escape, s) + '"'


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    o = ord(ch)
    if ch in '"\\':
        return "\\" + ch
    if o < 0x100:
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch) or f"\\x{o:02x}"
    return f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def _block(v: Any, pad: str, out: list[str]) -> None:
    """A mapping or a list at indentation ``pad`` (a scalar document is one line)."""
    if isinstance(v, dict):
        if not v:
            out.append(pad + "{}")
        for key, item in v.items():
            _entry(f"{pad}{_scalar(key)}:", item, pad, out, pad + "  ")
    elif isinstance(v, list):
        if not v:
            out.append(pad + "[]")
        for item in v:
            if isinstance(item, dict) and item:
                first = True
                for key, sub in item.items():
                    lead = f"{pad}- " if first else pad + "  "
                    _entry(f"{lead}{_scalar(key)}:", sub, pad + "  ", out, pad + "    ")
                    first = False
            else:
                _entry(f"{pad}-", item, pad, out, pad + "  ")
    else:
        out.append(pad + _scalar(v))


def _entry(head: str, item: Any, pad: str, out: list[str], deeper: str) -> None:
    """``head`` followed by ``item``: on the same line when scalar or empty, else below it."""
    if isinstance(item, dict) and item:
        out.append(head)
        _block(item, deeper, out)
    elif isinstance(item, list) and item:
        out.append(head)
        _block(item, pad if head.endswith(":") and not head.lstrip().startswith("-") else deeper, out)
    else:
        out.append(f"{head} {'{}' if item == {} else '[]' if item == [] else _scalar(item)}")

"""``-o json`` and ``-o yaml``: one document from Report.to_dict(); ASCII-escaped.

The YAML is written here, block style as ``yaml.safe_dump(default_flow_style=False)`` writes
it: PyYAML's emitter (even with libyaml) builds a node graph first and took 50 s and 2.6 GB for
a Service with 10^5 endpoints; this takes a few seconds. Strings that could read as anything
but a string are double-quoted with escapes, so the document loads back as it was made.
"""

from __future__ import annotations

import functools
import json
import math
import re
import secrets
from enum import Enum
from collections.abc import Callable, Iterable
from typing import Any


def render_json(doc: Any) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False)`` to the byte, a few times faster.

    ensure_ascii escapes DEL and C1 control bytes too, so hostile comments stay inert. NaN and
    infinities (a manifest's ``.nan``) become null: the first pass refuses them and the second
    runs on finite(doc), so the common document is walked once.
    """
    try:
        return _indented(doc) + "\n"
    except ValueError:
        return _indented(finite(doc)) + "\n"


# The json module writes indented output with its pure-Python encoder (its C encoder writes one
# separator for every level): 10 s for a Service with 10^5 endpoints. Here each container whose
# items are all scalars (or empty containers) is one C encoder call with this level's separator;
# a nested container is written first and put in the place of a marker string.
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_MARK = "\x00svcpath-" + secrets.token_hex(8) + "-"


@functools.lru_cache(maxsize=64)
def _flat_writer(inner: str) -> Callable[[Any, int], Any]:
    if _C_ENCODER is None:  # a Python built without _json: the module's own encoder, same bytes
        enc = json.JSONEncoder(ensure_ascii=True, allow_nan=False, check_circular=False, separators=("," + inner, ": "))
        return lambda o, _level: enc.iterencode(o)
    return _C_ENCODER(None, _unserializable, json.encoder.encode_basestring_ascii, None, ": ", "," + inner,
                      False, False, False)


def _flat_rows(o: list[Any]) -> bool:
    """Non-empty mappings whose values are all scalars or empty (endpoint rows)."""
    return (len(o) > 1 and all(type(r) is dict and r for r in o)
            and not any(isinstance(v, (dict, list, tuple)) and v for r in o for v in r.values()))


def _rows(o: list[dict[Any, Any]], nl: str, inner: str) -> str:
    """The rows in one C encoder call at the rows' own separator, then the row brackets moved to
    their lines: a raw newline never occurs inside a JSON string, so "}," + separator + "{" is
    always the boundary between two rows."""
    rin = inner + "  "
    text = "".join(_flat_writer(rin)(o, 0))
    body = text[2:-2].replace("}," + rin + "{", inner + "}," + inner + "{" + rin)
    return "[" + inner + "{" + rin + body + inner + "}" + nl + "]"


def _unserializable(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _indented(o: Any, nl: str = "\n") -> str:
    """``o`` as indented JSON whose closing bracket sits after ``nl`` (a newline and the indentation)."""
    if not isinstance(o, (dict, list, tuple)) or not o:
        return "".join(_flat_writer(nl)(o, 0))
    inner = nl + "  "
    if isinstance(o, list) and _flat_rows(o):
        return _rows(o, nl, inner)
    keys = o.keys() if isinstance(o, dict) else range(len(o))
    nested = [k for k in keys if isinstance(o[k], (dict, list, tuple)) and o[k]]
    if nested and len(nested) == len(o) and not isinstance(o, dict):  # a list of rows
        return "[" + inner + ("," + inner).join(_indented(v, inner) for v in o) + nl + "]"
    flat: Any = o
    written = {}
    if nested:
        flat = dict(o) if isinstance(o, dict) else list(o)
        for n, k in enumerate(nested):
            mark = f"{_MARK}{n}\x00"
            flat[k] = mark
            written[json.encoder.encode_basestring_ascii(mark)] = _indented(o[k], inner)
    text = "".join(_flat_writer(inner)(flat, 0))
    for mark, sub in written.items():
        text = text.replace(mark, sub, 1)
    return text[0] + inner + text[1:-1] + nl + text[-1]


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

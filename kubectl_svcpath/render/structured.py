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
import operator
import os
import re
from enum import Enum
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def render_json(doc: Any) -> str:
    """``json.dumps(doc, indent=2, ensure_ascii=True, allow_nan=False)`` to the byte, a few times faster.

    ensure_ascii escapes DEL and C1 control bytes too, so hostile comments stay inert. NaN and
    infinities (a manifest's ``.nan``) become null: the first pass refuses them and the second
    runs on finite(doc), so the common document is walked once.
    """
    return "".join(json_pieces(doc))


def json_pieces(doc: Any, nl: str = "\n") -> list[str]:
    """render_json's text in pieces (joined by the caller, once the document may be freed); ``nl``: a newline
    and the indentation of the document's lines (a written scalar holds no raw newline)."""
    out: list[str] = []
    try:
        _indented(doc, nl, out)
    except ValueError:
        out.clear()
        _indented(finite(doc), nl, out)
    out.append("\n")
    return out


# The json module writes indented output with its pure-Python encoder (its C encoder writes one
# separator for every level): 10 s for a Service with 10^5 endpoints. Here each container whose
# items are all scalars (or empty containers) is one C encoder call with this level's separator,
# a nested container is written in the place of a marker string, and a list of rows of one shape
# (endpoints) is one row template filled from its columns, each column one C encoder call. The
# pieces are joined once at the end: a 200 MB document is never copied piece by piece.
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_MARK = "\x00svcpath-" + os.urandom(8).hex() + "-"
_CONTAINERS = (dict, list, tuple)


@functools.lru_cache(maxsize=64)
def _flat_writer(inner: str) -> Callable[[Any, int], Any]:
    if _C_ENCODER is None:  # a Python built without _json: the module's own encoder, same bytes
        enc = json.JSONEncoder(ensure_ascii=True, allow_nan=False, check_circular=False, separators=("," + inner, ": "))
        return lambda o, _level: enc.iterencode(o)
    return _C_ENCODER(None, _unserializable, json.encoder.encode_basestring_ascii, None, ": ", "," + inner,
                      False, False, False)


def _unserializable(o: Any) -> Any:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _indented(o: Any, nl: str, out: list[str]) -> None:
    """Append ``o`` as indented JSON whose closing bracket sits after ``nl`` (a newline and the indentation)."""
    if not isinstance(o, _CONTAINERS) or not o:
        out.append("".join(_flat_writer(nl)(o, 0)))
        return
    inner = nl + "  "
    if isinstance(o, list) and len(o) > 1:
        columns: list[list[str]] = []
        template = _table(o, inner + "  ", columns)
        if template is not None:
            row = "{" + template + inner + "}"
            out.append("[" + inner)
            out.append(("," + inner).join(map(row.__mod__, zip(*columns, strict=True))))
            out.append(nl + "]")
            return
    pairs = o.items() if isinstance(o, dict) else enumerate(o)
    nested = [k for k, v in pairs if isinstance(v, _CONTAINERS) and v]
    if nested and len(nested) == len(o) and not isinstance(o, dict):  # a list of rows
        out.append("[" + inner)
        for n, v in enumerate(o):
            if n:
                out.append("," + inner)
            _indented(v, inner, out)
        out.append(nl + "]")
        return
    flat: Any = o
    marks = []
    if nested:
        flat = dict(o) if isinstance(o, dict) else list(o)
        for (mark, written), k in zip(_marks(len(nested)), nested, strict=False):  # (the marks: at least as many)
            flat[k] = mark
            marks.append((written, o[k]))
    text = "".join(_flat_writer(inner)(flat, 0))
    text = text[0] + inner + text[1:-1] + nl + text[-1]
    for mark, sub in marks:  # in the order they were written: each mark is found in what is left
        head, _, text = text.partition(mark)
        out.append(head)
        _indented(sub, inner, out)
    out.append(text)


_MARKS: list[tuple[str, str]] = []  # the n-th nested container's mark, and the mark as written


def _marks(n: int) -> list[tuple[str, str]]:
    while len(_MARKS) < n:
        mark = f"{_MARK}{len(_MARKS)}\x00"
        _MARKS.append((mark, json.encoder.encode_basestring_ascii(mark)))
    return _MARKS


def _shape(rows: Sequence[Any]) -> tuple[str, ...] | None:
    """The keys of rows that are non-empty mappings with the same string keys in the same order, else None."""
    first = rows[0]
    if type(first) is not dict or not first or any(type(k) is not str for k in first):
        return None
    keys = tuple(first)
    if set(map(type, rows)) != {dict} or set(map(tuple, rows)) != {keys}:
        return None
    return keys


def _table(rows: Sequence[Any], pad: str, columns: list[list[str]]) -> str | None:
    """JSON rows of one shape (``_shape``) whose values are scalars, empty containers or, the
    same way down, such mappings: the %-template of one row's body with its keys at ``pad``;
    its columns of written values are appended to ``columns``. None: not such rows."""
    keys = _shape(rows)
    if keys is None:
        return None
    parts = []
    for k, values in zip(keys, zip(*map(dict.values, rows), strict=True), strict=True):  # (every row's keys are ``keys``, in order)
        head = pad + json.encoder.encode_basestring_ascii(k).replace("%", "%%") + ": "
        written = _json_column(values)
        if written is not None:
            columns.append(written)
            parts.append(head + "%s")
            continue
        sub = _table(values, pad + "  ", columns)
        if sub is None:
            return None
        parts.append(head + "{" + sub + pad + "}")
    return ",".join(parts)


def _json_column(values: Sequence[Any]) -> list[str] | None:
    """A column of scalars (or empty containers) written by one C encoder call; None otherwise."""
    if any(issubclass(t, _CONTAINERS) for t in set(map(type, values))) and any(
            isinstance(v, _CONTAINERS) and v for v in values):
        return None
    return "".join(_flat_writer("\n")(values, 0))[1:-1].split(",\n")  # a written scalar holds no raw newline


_ITEMS = "svcpath-items-placeholder"
_ITEM_NL = "\n    "  # an item's lines sit four spaces in, under the document's "items"


def render_item(item: Any, fmt: str) -> str:
    """One element of a document's ``items``, rendered as write_list() places it (an audit renders
    each Service as it is analysed and keeps this text, not the report)."""
    if fmt == "json":  # (render_json's writer: the json module's indented output is its pure-Python encoder)
        return "    " + "".join(json_pieces(item, _ITEM_NL)[:-1])  # (not the final newline: a separator follows)
    out: list[str] = []
    _block([item], "", out)
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
    return "\n".join(yaml_lines(doc))


def yaml_lines(doc: Any) -> list[str]:
    """render_yaml's text as lines, the last one empty (joined by the caller, once the document may be freed)."""
    out: list[str] = []
    _block(doc, "", out)
    out.append("")
    return out


_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@-]*(?: [A-Za-z0-9_./@()-]+)*")
_RESERVED = re.compile(r"(?i:y|n|yes|no|true|false|on|off|null|~|\.nan|\.inf|[-+]?\.inf)$|[-+0-9.]")
# '"', a backslash, control characters and everything past ASCII: the complement of the printable rest
# (as a negated class: the range up to U+10FFFF took ~5 ms of every start-up to compile)
_NEEDS_ESCAPE = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')


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
        text = repr(v)  # YAML 1.1 (PyYAML) reads 1e-05 as a string: a float needs its dot (1.0e-05)
        return text if "e" not in text or "." in text else text.replace("e", ".0e", 1)
    s = v.value if isinstance(v, Enum) else str.__str__(v) if isinstance(v, str) else str(v)  # str Enums as json writes them
    if _PLAIN.fullmatch(s) and not _RESERVED.match(s):
        return s
    return '"' + _NEEDS_ESCAPE.sub(_escape, s) + '"'


class _Memo(dict[str, str]):
    """str -> _scalar(str) for the texts a document repeats (keys, "Cluster", "KUBE-SERVICES"): the first MEMO
    texts of up to MEMO_CHARS characters seen."""

    def __missing__(self, s: str) -> str:
        text = _scalar(s)
        if len(self) < _MEMO and len(s) <= _MEMO_CHARS:
            self[s] = text
        return text


_MEMO, _MEMO_CHARS = 4096, 256
_WRITTEN = _Memo()  # (a pure function's answers: kept across documents, an audit's 10,000 items)


def _value(v: Any) -> str:
    """A value as _block writes it: an empty container as {} or [], NaN and infinities as null (no finite(doc) copy)."""
    if isinstance(v, float) and not math.isfinite(v):
        return "null"
    if isinstance(v, _CONTAINERS) and not v:
        return "{}" if isinstance(v, dict) else "[]"
    return _scalar(v)


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
            _entry(f"{pad}{_WRITTEN[key] if type(key) is str else _scalar(key)}:", item, pad, out, pad + "  ")
    elif isinstance(v, (list, tuple)):
        if not v:
            out.append(pad + "[]")
        elif len(v) > 1 and _yaml_rows(v, pad, out):
            return
        for item in v:
            if isinstance(item, dict) and item:
                first = True
                for key, sub in item.items():
                    lead = f"{pad}- " if first else pad + "  "
                    _entry(f"{lead}{_WRITTEN[key] if type(key) is str else _scalar(key)}:", sub, pad + "  ", out, pad + "    ")
                    first = False
            else:
                _entry(f"{pad}-", item, pad, out, pad + "  ")
    else:
        out.append(pad + _value(v))


def _entry(head: str, item: Any, pad: str, out: list[str], deeper: str) -> None:
    """``head`` followed by ``item``: on the same line when scalar or empty, else below it."""
    if isinstance(item, dict) and item:
        out.append(head)
        _block(item, deeper, out)
    elif isinstance(item, (list, tuple)) and item:
        out.append(head)
        _block(item, pad if head.endswith(":") and not head.lstrip().startswith("-") else deeper, out)
    else:
        out.append(f"{head} {_WRITTEN[item] if type(item) is str else _value(item)}")


# Rows of one shape (endpoints): one %-template per list, filled from its columns of written
# scalars (the same lines _block writes; 10^5 endpoints: seconds instead of tens of seconds).

def _yaml_rows(rows: Sequence[Any], pad: str, out: list[str]) -> bool:
    """Append the rows as _block writes them (each row one element: its lines) when they are of one shape."""
    columns: list[list[str]] = []
    body = _yaml_table(rows, pad + "  ", columns)
    if body is None:
        return False
    template = pad + "- " + body[len(pad) + 2:]  # the first key's line carries the item's dash
    out.extend(map(template.__mod__, zip(*columns, strict=True)))
    return True


def _yaml_table(rows: Sequence[Any], pad: str, columns: list[list[str]]) -> str | None:
    """The %-template of one row's lines with its keys at ``pad`` (see _table); None: not rows of one shape."""
    keys = _shape(rows)
    if keys is None:
        return None
    lines = []
    for k in keys:
        values = list(map(operator.itemgetter(k), rows))
        head = pad + _scalar(k).replace("%", "%%") + ":"
        written = _yaml_column(values)
        if written is not None:
            columns.append(written)
            lines.append(head + " %s")
            continue
        sub = _yaml_table(values, pad + "  ", columns) if set(map(type, values)) == {dict} else None
        if sub is None:
            return None
        lines.append(head + "\n" + sub)
    return "\n".join(lines)


class _Written(dict[Any, str]):
    """value -> _scalar(value), each written once (a column repeats few values: true, null, 9090)."""

    def __missing__(self, v: Any) -> str:
        text = self[v] = _scalar(v)
        return text


_CACHEABLE = frozenset({str, int, bool, type(None)})


def _yaml_column(values: list[Any]) -> list[str] | None:
    """A column of scalars or empty containers as _entry writes them; None when one is a non-empty container."""
    types = set(map(type, values))
    if types <= _CACHEABLE and not (bool in types and int in types):  # no two equal values written differently
        return list(map(_Written().__getitem__, values))
    if not any(issubclass(t, _CONTAINERS) for t in types):
        return list(map(_value, values))
    if any(isinstance(v, _CONTAINERS) and v for v in values):
        return None
    return list(map(_value, values))

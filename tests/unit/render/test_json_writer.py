"""-o json is written by render/structured.py's own indented writer (C encoder per flat
container); it must give json.dumps(indent=2, ensure_ascii=True)'s bytes for any document."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_svcpath.render.structured import finite, render_json

_HOSTILE = st.sampled_from(["", "x", "\x00", "\x1b[2J", "\u202e", "é", "}, {", "},\n  {", '"\\', "\x00svcpath-"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.just([]), st.just({}), st.just(()), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=8), _HOSTILE)
_KEYS = st.one_of(st.text(max_size=4), _HOSTILE, st.integers(-3, 3), st.booleans(), st.none())
_DOCS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5),
    st.lists(st.dictionaries(_KEYS, _SCALARS, max_size=4), max_size=5)), max_leaves=40)


def _reference(doc: object) -> str:
    return json.dumps(finite(doc), indent=2, ensure_ascii=True, allow_nan=False) + "\n"


@settings(max_examples=600, deadline=None)
@given(_DOCS)
def test_same_bytes_as_json_dumps(doc: object) -> None:
    assert render_json(doc) == _reference(doc)


def test_rows_of_endpoints_and_nan() -> None:
    rows = [{"ip": f"10.0.0.{i}", "port": 80, "zoneHints": [], "ready": True, "weight": math.nan} for i in range(3)]
    doc = {"ports": [{"sliceEndpoints": rows, "expected": {"endpoints": rows, "topology": None}}], "empty": {}}
    out = render_json(doc)
    assert out == _reference(doc)
    assert "NaN" not in out and json.loads(out)["ports"][0]["sliceEndpoints"][2]["weight"] is None

"""-o json is written by render/structured.py's own indented writer (C encoder per flat
container); it must give json.dumps(indent=2, ensure_ascii=True)'s bytes for any document."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_svcpath.render import structured
from kubectl_svcpath.render.structured import finite, render_json

_HOSTILE = st.sampled_from(["", "x", "\x00", "\x1b[2J", "\u202e", "é", "}, {", "},\n  {", '"\\', "\x00svcpath-"])
_SCALARS = st.one_of(st.none(), st.booleans(), st.just([]), st.just({}), st.just(()), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=8), _HOSTILE)
_KEYS = st.one_of(st.text(max_size=4), _HOSTILE, st.integers(-3, 3), st.booleans(), st.none())
_DOCS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=5),
    st.lists(st.dictionaries(_KEYS, _SCALARS, max_size=4), max_size=5)), max_leaves=40)


_ROW_KEYS = st.lists(st.one_of(st.sampled_from(["ip", "port", "%s", "%", "a%%b"]), _HOSTILE, st.text(max_size=3)),
                     min_size=1, max_size=5, unique=True)


@st.composite
def _rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """Rows of one shape (endpoints), some with a nested mapping of one shape: written from a template."""
    keys, sub_keys = draw(_ROW_KEYS), draw(_ROW_KEYS)
    nested = draw(st.sets(st.sampled_from(keys)))
    row = st.fixed_dictionaries({k: (st.fixed_dictionaries({s: _SCALARS for s in sub_keys}) if k in nested else _SCALARS)
                                 for k in keys})
    return draw(st.lists(row, min_size=2, max_size=6))


_DOCS_WITH_ROWS = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_KEYS, inner, max_size=3), _rows()), max_leaves=20)


def _reference(doc: object) -> str:
    return json.dumps(finite(doc), indent=2, ensure_ascii=True, allow_nan=False) + "\n"


@settings(max_examples=600, deadline=None)
@given(_DOCS)
def test_same_bytes_as_json_dumps(doc: object) -> None:
    assert render_json(doc) == _reference(doc)


@settings(max_examples=400, deadline=None)
@given(_DOCS_WITH_ROWS)
def test_rows_of_one_shape_same_bytes_as_json_dumps(doc: object) -> None:
    assert render_json(doc) == _reference(doc)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_DOCS, _DOCS_WITH_ROWS))
def test_an_audit_item_same_bytes_as_json_dumps(doc: object) -> None:
    """--all -o json: each Service's item, indented as the document's items are, is the same writer's."""
    reference = json.dumps(finite(doc), indent=2, ensure_ascii=True, allow_nan=False)
    assert structured.render_item(doc, "json") == "    " + reference.replace("\n", "\n    ")


def test_rows_of_endpoints_and_nan() -> None:
    rows = [{"ip": f"10.0.0.{i}", "port": 80, "zoneHints": [], "ready": True, "weight": math.nan} for i in range(3)]
    doc = {"ports": [{"sliceEndpoints": rows, "expected": {"endpoints": rows, "topology": None}}], "empty": {}}
    out = render_json(doc)
    assert out == _reference(doc)
    assert "NaN" not in out and json.loads(out)["ports"][0]["sliceEndpoints"][2]["weight"] is None


# -o yaml: rows of one shape are written from a template; the lines must be those the general
# writer gives (on finite(doc), as it was called before) and load back as the document.
def _yaml_reference(doc: object, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as m:
        m.setattr(structured, "_yaml_rows", lambda rows, pad, out: False)
        return structured.render_yaml(finite(doc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=st.one_of(_DOCS, _DOCS_WITH_ROWS))
def test_yaml_rows_same_lines_as_the_general_writer(doc: object, monkeypatch: pytest.MonkeyPatch) -> None:
    text = structured.render_yaml(doc)
    assert text == _yaml_reference(doc, monkeypatch)
    if isinstance(doc, (dict, list)) and doc:
        assert yaml.safe_load(text) == _loaded(finite(doc))


def _loaded(doc: object) -> object:
    """What YAML gives back: tuples are sequences, every key as its scalar."""
    if isinstance(doc, dict):
        return {k: _loaded(v) for k, v in doc.items()}
    if isinstance(doc, (list, tuple)):
        return [_loaded(v) for v in doc]
    return doc


# -o yaml: the strings a document repeats (keys, "Cluster") are written once and kept (an audit's 10,000 items
# wrote "apiVersion" 10,000 times); the text must be the one each string written anew gives
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(st.one_of(_DOCS, _DOCS_WITH_ROWS), min_size=1, max_size=3))
def test_yaml_strings_kept_once_written_give_the_same_text(docs: list[object], monkeypatch: pytest.MonkeyPatch) -> None:
    kept = [structured.render_yaml(d) for d in docs]
    with monkeypatch.context() as m:
        m.setattr(structured, "_WRITTEN", structured._Memo())
        m.setattr(structured, "_MEMO", 0)
        assert [structured.render_yaml(d) for d in docs] == kept


def test_yaml_a_repeated_key_is_written_once(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[object] = []
    scalar = structured._scalar
    monkeypatch.setattr(structured, "_WRITTEN", structured._Memo())
    monkeypatch.setattr(structured, "_scalar", lambda v: written.append(v) or scalar(v))
    item = {"apiVersion": "svcpath.kubectl.io/v1alpha1", "policy": "Cluster", "ports": [{"name": "http"}]}
    first = structured.render_item(item, "yaml")
    assert structured.render_item(dict(item), "yaml") == first
    assert sorted(map(str, written)) == sorted(["apiVersion", "svcpath.kubectl.io/v1alpha1", "policy", "Cluster", "ports", "name", "http"])

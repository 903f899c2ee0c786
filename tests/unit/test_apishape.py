"""apishape.check_object: the straight-line checker made from the shapes (the live --all reads 20,000
objects through it) accepts exactly what the field-by-field walk accepts, and a wrong field still gets
the walk's message naming it.

Every field of real objects (the upstream proxier test's manifest, the bundled example's, generated
API objects) is set in turn to values of every other type and to edge values of its own; each variant
must be accepted by both or refused by both.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_svcpath.apishape import SHAPES, _check, _plain, check_object
from kubectl_svcpath.errors import BadDump
from kubectl_svcpath.manifest import load_objects
from tests.conftest import EXAMPLE, ROOT, svcpath
from tests.lab.kpgen import PortSpec, ServiceSpec, api_objects

_ODD = [None, True, False, 0, -1, 1, 80, 65535, 65536, 10 ** 40, 1.5, "", "x", "80", "a" * 63, "a" * 64,
        [], ["x"], [1], [None], {}, {"a": "b"}, {"a": 1}, {1: "b"}, {"ip": "10.0.0.1"}]


def _objects() -> list[dict[str, Any]]:
    out = load_objects((ROOT / "tests/fixtures/iptables/upstream-TestOverallIPTablesRules.yaml").read_text(), "m")
    out += load_objects((EXAMPLE / "manifest.yaml").read_text(), "m")
    spec = ServiceSpec("prod", "web", "10.96.0.7", [PortSpec("http", 80, 8080, node_port=30080)],
                       ["10.244.1.5", "10.244.2.6"], type="LoadBalancer", external_ips=["192.0.2.9"],
                       lb_ips=["198.51.100.4"], affinity_seconds=60, not_ready=["10.244.3.7"])
    out += api_objects(spec, node_of={"10.244.1.5": "node-a"})
    return [o for o in out if o.get("kind") in SHAPES]


def _places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value (the key path to it), the root's children first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*path, k)
            yield from _places(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*path, i)
            yield from _places(v, (*path, i))


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(obj)
    at = out
    for step in path[:-1]:
        at = at[step]
    at[path[-1]] = value
    return out


def _variants(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _places(obj):
        for odd in _ODD:
            yield _set(obj, path, odd)
    for key in ("spec", "metadata", "endpoints", "ports", "status"):  # fields the object may lack
        if key in obj:
            yield {k: v for k, v in obj.items() if k != key}


def test_straight_line_checker_accepts_what_the_walk_accepts() -> None:
    objects = _objects()
    assert {o["kind"] for o in objects} == {"Service", "EndpointSlice"}
    refused = accepted = 0
    for obj in objects:
        for v in _variants(obj):
            walk_ok = _check(v, SHAPES[obj["kind"]], "") is None
            assert _plain(obj["kind"])(v) is walk_ok, v
            refused += not walk_ok
            accepted += walk_ok
    assert refused > 1000 and accepted > 1000  # both answers were exercised


@pytest.mark.parametrize("field,value,message", [
    (("spec", "ports", 0, "port"), "abc", 'Service "default/hello-service": spec.ports[0].port must be a port number '
                                          "(1-65535), not the string 'abc'"),
    (("metadata", "labels"), {"app": 3}, 'Service "default/hello-service": metadata.labels.app must be a string, '
                                         "not the number 3"),
    # a null item of a list (a field may be null, as the API server writes it; an item may not)
    (("spec", "ports", 0), None, 'Service "default/hello-service": spec.ports[0] must be an object, not null'),
    (("spec", "clusterIPs"), ["10.101.173.15", None], 'Service "default/hello-service": spec.clusterIPs[1] must be a string, not null'),
])
def test_a_wrong_field_is_named(field: tuple[Any, ...], value: Any, message: str) -> None:
    svc = next(o for o in load_objects((EXAMPLE / "manifest.yaml").read_text(), "m") if o["kind"] == "Service")
    check_object(svc, "m")  # as sent: no error
    with pytest.raises(BadDump) as e:
        check_object(_set(svc, field, value), "manifest.yaml")
    assert message in str(e.value.message) or message in str(e.value)


def test_a_null_endpoint_in_a_manifest_is_one_line_not_a_crash(tmp_path) -> None:
    """The hostile campaign's seed 21: `endpoints: [null]` in an EndpointSlice passed the check and ended in
    "internal error (AttributeError: 'NoneType' object has no attribute 'get')"."""
    objects = load_objects((EXAMPLE / "manifest.yaml").read_text(), "m")
    for o in objects:
        if o["kind"] == "EndpointSlice":
            o["endpoints"] = [None]
    (tmp_path / "m.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    code, out, err = svcpath("hello-service", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"), "--manifest", str(tmp_path / "m.json"))
    assert code == 8, err
    assert err.splitlines()[0].startswith("error: ") and "endpoints[0] must be an object, not null" in err, err
    assert "internal error" not in err and "Traceback" not in err

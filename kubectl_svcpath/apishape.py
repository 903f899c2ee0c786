"""The shapes of the API objects the plugin reads, checked once where they are read.

A manifest someone sent (``--manifest``) or an object from the API server is plain JSON/YAML:
``port: abc``, ``ports: 80``, ``labels: x`` or an address written as a list are all possible.
``check_object()`` compares a Service or an EndpointSlice with the Kubernetes API's shapes for
the fields the plugin reads (unknown fields are ignored, ``null`` is accepted for every optional
field as the API server itself writes it, but not for an item of a list) and raises one error naming the field:

    manifest.yaml: Service "default/web": spec.ports[0].port must be a port number (1-65535), not the string "abc"
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, cast

from kubectl_svcpath.errors import BadDump

# shapes: a type (str, bool), INT, PORT, INT_OR_STRING (targetPort), STR_MAP (labels),
# [shape] (a list of it), {key: shape} (an object; other keys are not looked at)
INT = "integer"
PORT = "port number (1-65535)"
PORT_OR_ZERO = "port number (0-65535)"
INT_OR_STRING = "port number or port name"
STR_MAP = "map of strings"

_META = {"name": str, "namespace": str, "labels": STR_MAP, "annotations": STR_MAP, "uid": str,
         "resourceVersion": str}
_SERVICE_PORT = {"name": str, "protocol": str, "port": PORT, "targetPort": INT_OR_STRING, "nodePort": PORT_OR_ZERO,
                 "appProtocol": str}
SERVICE = {
    "kind": str, "apiVersion": str, "metadata": _META,
    "spec": {"type": str, "clusterIP": str, "clusterIPs": [str], "externalIPs": [str], "ports": [_SERVICE_PORT],
             "selector": STR_MAP, "loadBalancerIP": str, "loadBalancerSourceRanges": [str],
             "externalTrafficPolicy": str, "internalTrafficPolicy": str, "sessionAffinity": str,
             "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": INT}}, "healthCheckNodePort": PORT_OR_ZERO,
             "ipFamilies": [str], "ipFamilyPolicy": str, "externalName": str, "publishNotReadyAddresses": bool,
             "trafficDistribution": str},
    "status": {"loadBalancer": {"ingress": [{"ip": str, "hostname": str, "ipMode": str}]}},
}
ENDPOINT_SLICE = {
    "kind": str, "apiVersion": str, "metadata": _META, "addressType": str,
    "ports": [{"name": str, "protocol": str, "port": PORT_OR_ZERO, "appProtocol": str}],
    "endpoints": [{"addresses": [str], "conditions": {"ready": bool, "serving": bool, "terminating": bool},
                   "nodeName": str, "zone": str, "hostname": str,
                   "targetRef": {"kind": str, "name": str, "namespace": str, "uid": str}}],
}
SHAPES = {"Service": SERVICE, "EndpointSlice": ENDPOINT_SLICE}


MANIFEST_HINT = "pass the objects as `kubectl get service,endpointslices -o yaml` prints them"


def check_object(obj: Any, source: str, hint: str = MANIFEST_HINT) -> None:
    """Raise BadDump naming the first field of a Service/EndpointSlice whose type is wrong."""
    if not isinstance(obj, dict):
        raise BadDump(source, f"an object in the manifest is {_what(obj)}, not a mapping")
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in SHAPES:  # other kinds are not read
        return
    shape = SHAPES[kind]
    if _plain(kind)(obj):  # (the usual case: every field of the shape it should be, checked by straight-line code)
        return
    problem = _check(obj, shape, "")
    if problem:
        path, expected, value = problem
        metadata = obj.get("metadata")
        meta = metadata if isinstance(metadata, dict) else {}
        name, ns = meta.get("name"), meta.get("namespace")
        who = f'{obj["kind"]} "{ns}/{name}"' if isinstance(name, str) and isinstance(ns, str) else (
            f'{obj["kind"]} "{name}"' if isinstance(name, str) else obj["kind"])
        raise BadDump(source, f"{who}: {path} must be {_article(expected)}, not {_what(value)}",
                      hint=hint)


def _check(value: Any, shape: Any, path: str) -> tuple[str, str, Any] | None:
    """(path, what was expected, the value found) of the first mismatch, or None."""
    # iterative: a hostile document may be nested far deeper than the shapes are; a field's path is
    # kept as (parent, key or index) and spelled out only for the field that is wrong (20,000 objects
    # of a live --all are read with no string built)
    stack: list[tuple[Any, Any, Any]] = [(value, shape, path)]
    while stack:
        v, s, p = stack.pop()
        if v is None:
            continue
        if isinstance(s, dict):
            if not isinstance(v, dict):
                return _spelled(p) or "the object", "an object", v
            for key, sub in s.items():
                if key in v:
                    stack.append((v[key], sub, (p, key)))
        elif isinstance(s, list):
            if not isinstance(v, list):
                return _spelled(p), "a list", v
            if None in v:  # (a field may be null; an item of a list may not: `endpoints: [null]`, a YAML `- ` alone)
                return _spelled((p, v.index(None))), _expected(s[0]), None
            stack.extend((item, s[0], (p, i)) for i, item in reversed(list(enumerate(v))))
        elif s is str or s is bool:
            if type(v) is not s:
                return _spelled(p), "a string" if s is str else "true or false", v
        elif s == STR_MAP:
            if not isinstance(v, dict):
                return _spelled(p), s, v
            for k, item in v.items():
                if not isinstance(k, str) or not isinstance(item, str):
                    return _spelled((p, k) if isinstance(k, str) else p), "a string", item if isinstance(k, str) else k
        elif s == INT:
            if type(v) is not int:
                return _spelled(p), s, v
        elif s in (PORT, PORT_OR_ZERO):
            low = 1 if s == PORT else 0
            if type(v) is not int or not low <= v <= 65535:
                return _spelled(p), s, v
        elif s == INT_OR_STRING:
            if not ((type(v) is int and 0 <= v <= 65535) or (type(v) is str and 0 < len(v) <= 63)):
                return _spelled(p), s, v
    return None


def _expected(shape: Any) -> str:
    """What a value of ``shape`` is, in the words of the error."""
    if isinstance(shape, dict):
        return "an object"
    if isinstance(shape, list):
        return "a list"
    if shape is str or shape is bool:
        return "a string" if shape is str else "true or false"
    return str(shape)


def _compiled(shape: Any) -> Callable[[Any], bool]:
    """``_check(v, shape) is None`` as one function of straight-line code made from the shape: a
    20,000-object LIST is checked in a quarter of the time (no stack of (value, shape, path) per field).
    It only answers yes or no; on a no, ``_check`` finds the field and says what is wrong with it."""
    lines = ["def ok(v0):"]
    names = itertools.count(1)

    def emit(v: str, s: Any, depth: int) -> None:
        pad = "    " * depth
        if isinstance(s, dict):
            lines.append(f"{pad}if {v} is not None:")
            lines.append(f"{pad}    if not isinstance({v}, dict): return False")
            for key, sub in s.items():
                child = f"v{next(names)}"
                lines.append(f"{pad}    {child} = {v}.get({key!r})")
                emit(child, sub, depth + 1)
        elif isinstance(s, list):
            item = f"v{next(names)}"
            lines.append(f"{pad}if {v} is not None:")
            lines.append(f"{pad}    if not isinstance({v}, list): return False")
            lines.append(f"{pad}    for {item} in {v}:")
            lines.append(f"{pad}        if {item} is None: return False")
            emit(item, s[0], depth + 2)
        elif s is str or s is bool:
            lines.append(f"{pad}if {v} is not None and type({v}) is not {s.__name__}: return False")
        elif s == STR_MAP:
            k, x = f"v{next(names)}", f"v{next(names)}"
            lines.append(f"{pad}if {v} is not None:")
            lines.append(f"{pad}    if not isinstance({v}, dict): return False")
            lines.append(f"{pad}    for {k}, {x} in {v}.items():")
            lines.append(f"{pad}        if not isinstance({k}, str) or not isinstance({x}, str): return False")
        elif s == INT:
            lines.append(f"{pad}if {v} is not None and type({v}) is not int: return False")
        elif s in (PORT, PORT_OR_ZERO):
            low = 1 if s == PORT else 0
            lines.append(f"{pad}if {v} is not None and (type({v}) is not int or not {low} <= {v} <= 65535): return False")
        elif s == INT_OR_STRING:
            lines.append(f"{pad}if {v} is not None and not ((type({v}) is int and 0 <= {v} <= 65535)"
                         f" or (type({v}) is str and 0 < len({v}) <= 63)): return False")
        else:  # (a shape _check does not know either: it would accept any value)
            lines.append(f"{pad}pass")

    emit("v0", shape, 1)
    lines.append("    return True")
    scope: dict[str, Any] = {}
    exec("\n".join(lines), scope)  # noqa: S102 - our own source, made from the constant shapes above
    return cast(Callable[[Any], bool], scope["ok"])


@functools.cache
def _plain(kind: str) -> Callable[[Any], bool]:
    """The straight-line checker of a kind, compiled when first asked for (not at import: an offline run
    that reads no manifest pays nothing)."""
    return _compiled(SHAPES[kind])


def _spelled(path: Any) -> str:
    """``spec.ports[0].port`` from (((("", "spec"), "ports"), 0), "port")."""
    steps: list[str | int] = []
    while isinstance(path, tuple):
        path, step = path
        steps.append(step)
    out = path
    for step in reversed(steps):
        out = f"{out}[{step}]" if isinstance(step, int) else (f"{out}.{step}" if out else step)
    return out


def _article(expected: str) -> str:
    return expected if expected.startswith(("a ", "an ", "true")) else f"a {expected}"


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        if abs(value) >= 10 ** 30:
            return "a 30+-digit number"
        digits = len(str(value))
        return f"the number {value}" if digits <= 12 else f"a {digits}-digit number"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}" + ("…" if len(value) > 40 else "")
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

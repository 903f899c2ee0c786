"""Every API read the plugin makes: GET and LIST only, answers as raw JSON dicts.

Raw JSON, not client models (transport.py says why and how), so live objects go through the same
converter as ``--manifest`` files (``manifest.snapshot_from_objects``). LIST items carry no
``kind``/``apiVersion`` on the wire; they are added here the way ``kubectl get -o json`` does.
"""

from __future__ import annotations

import json
from typing import Any

from kubectl_svcpath.apishape import check_object
from kubectl_svcpath.errors import ApiUnreachable
from kubectl_svcpath.kube import retry, transport
from kubectl_svcpath.kube.client import Call, Kube, one_line

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


_ANSWER = "the API server's answer"
# (an object the API server itself validated cannot be so: a proxy, an aggregated API or a webhook in between)
_ANSWER_HINT = ("the API server (or a proxy in front of it) sent an object Kubernetes would not store; "
                "-v 6 prints the path, `kubectl get --raw PATH` what it sends")
CHUNK_SIZE = 500  # items per LIST page: kubectl's --chunk-size default


class _Expired(Exception):
    """410 Gone on a LIST page after the first: the continue token outlived the server's history."""


def _raw(kube: Kube, call: Call, path: str, path_params: dict[str, str],
         query: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    query = query or []

    def attempt(started: float) -> bytes:
        data = transport.get(kube.api, path, path_params, query, kube.timeout, kube.headers)
        kube.log_request("GET", path, path_params, query, 200, started)
        return data

    def failed(e: BaseException, started: float) -> None:
        kube.log_request("GET", path, path_params, query, e, started)
        if getattr(e, "status", None) == 410 and any(k == "continue" for k, _ in query):
            raise _Expired() from None

    data = retry.send(kube, call, attempt, failed)  # (429/5xx with Retry-After: sent again, as kubectl does)
    try:
        obj = json.loads(data)
    except ValueError:
        raise ApiUnreachable(f"the API server's answer to {call.describe()} is not JSON: {one_line(data[:200].decode('utf-8', 'replace') if isinstance(data, bytes) else str(data)[:200])}",
                             hint="is the kubeconfig's server a Kubernetes API server (not a proxy page)?") from None
    if not isinstance(obj, dict):
        raise ApiUnreachable(f"unexpected answer to {call.describe()}", hint="is this a Kubernetes API server?")
    return obj


def _list(kube: Kube, call: Call, path: str, path_params: dict[str, str], kind: str, api_version: str,
          query: list[tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """Every item of a LIST, read in pages of CHUNK_SIZE as kubectl reads them (``limit``, then
    ``continue`` with the token of the page before, until the server gives none). A token that
    expired between two pages (410 Gone) is answered as client-go's pager answers it: the whole
    list again, in one request."""
    items: list[dict[str, Any]] = []
    token, seen = None, set()
    while True:
        page = ([("continue", token)] if token else []) + list(query or []) + [("limit", str(CHUNK_SIZE))]
        try:
            obj = _raw(kube, call, path, path_params, page)  # the generated methods' order: continue, selectors, limit
        except _Expired:
            return _items(_raw(kube, call, path, path_params, query), kind, api_version)
        items += _items(obj, kind, api_version)
        token = (obj.get("metadata") or {}).get("continue") if isinstance(obj.get("metadata"), dict) else None
        if not token:
            return items
        if token in seen:  # a server that hands out the same page again would never end the list
            raise ApiUnreachable(f"the API server's pages of {call.describe()} do not advance (a continue token came twice)",
                                 hint="retry; if it persists, check the API server (or the proxy in front of it)")
        seen.add(token)


def _items(obj: dict[str, Any], kind: str, api_version: str) -> list[dict[str, Any]]:
    items = [i for i in obj.get("items") or [] if isinstance(i, dict)]
    for item in items:  # (what the path lists is the kind: a "kind" field of another value or type is not read)
        item["kind"] = kind
        item.setdefault("apiVersion", api_version)
    return items


def get_service(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    obj = _raw(kube, Call("get", "services", name, namespace), "/api/v1/namespaces/{namespace}/services/{name}",
               {"namespace": namespace, "name": name})
    obj["kind"] = "Service"  # (the path's kind: the shape of a Service is checked whatever its "kind" field says)
    obj.setdefault("apiVersion", "v1")
    check_object(obj, _ANSWER, _ANSWER_HINT)
    return obj


def list_endpoint_slices(kube: Kube, namespace: str, service: str) -> list[dict[str, Any]]:
    items = _list(kube, Call("list", "endpointslices", None, namespace, "discovery.k8s.io"),
                  "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices", {"namespace": namespace},
                  "EndpointSlice", "discovery.k8s.io/v1", [("labelSelector", f"{SERVICE_NAME_LABEL}={service}")])
    for item in items:
        check_object(item, _ANSWER, _ANSWER_HINT)
    return sorted(items, key=lambda o: (o.get("metadata") or {}).get("name") or "")


def list_services(kube: Kube, namespace: str | None, label_selector: str | None = None) -> list[dict[str, Any]]:
    """--all: every Service of the namespace, or of the cluster (None: -A); -l: those with these labels."""
    query = [("labelSelector", label_selector)] if label_selector else None
    if namespace is None:
        items = _list(kube, Call("list", "services"), "/api/v1/services", {}, "Service", "v1", query)
    else:
        items = _list(kube, Call("list", "services", None, namespace), "/api/v1/namespaces/{namespace}/services",
                      {"namespace": namespace}, "Service", "v1", query)
    for item in items:
        check_object(item, _ANSWER, _ANSWER_HINT)
    return items


def services_named(kube: Kube, name: str) -> list[dict[str, Any]]:
    """The Services called ``name`` in every namespace (LIST with a field selector, as
    ``kubectl get services -A --field-selector metadata.name=NAME``): where a Service not found was meant."""
    return _list(kube, Call("list", "services"), "/api/v1/services", {}, "Service", "v1",
                 [("fieldSelector", f"metadata.name={name}")])


def list_all_endpoint_slices(kube: Kube, namespace: str | None) -> list[dict[str, Any]]:
    """--all: every EndpointSlice of the namespace, or of the cluster (None: -A); the caller groups them."""
    group = "discovery.k8s.io"
    if namespace is None:
        items = _list(kube, Call("list", "endpointslices", None, None, group), "/apis/discovery.k8s.io/v1/endpointslices", {},
                      "EndpointSlice", "discovery.k8s.io/v1")
    else:
        items = _list(kube, Call("list", "endpointslices", None, namespace, group),
                      "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices", {"namespace": namespace},
                      "EndpointSlice", "discovery.k8s.io/v1")
    for item in items:
        check_object(item, _ANSWER, _ANSWER_HINT)
    return items


def list_nodes(kube: Kube, label_selector: str | None = None) -> list[dict[str, Any]]:
    query = [("labelSelector", label_selector)] if label_selector else []
    return _list(kube, Call("list", "nodes"), "/api/v1/nodes", {}, "Node", "v1", query)


def get_node(kube: Kube, name: str) -> dict[str, Any]:
    """The Node read: its topology.kubernetes.io/zone label and addresses (what kube-proxy sees of it)."""
    obj = _raw(kube, Call("get", "nodes", name), "/api/v1/nodes/{name}", {"name": name})
    obj.setdefault("kind", "Node")
    obj.setdefault("apiVersion", "v1")
    return obj


def list_pods(kube: Kube, namespace: str, label_selector: str | None, field_selector: str | None = None) -> list[dict[str, Any]]:
    query = [("fieldSelector", field_selector)] if field_selector else []  # the generated method's order
    if label_selector:
        query.append(("labelSelector", label_selector))
    return _list(kube, Call("list", "pods", None, namespace), "/api/v1/namespaces/{namespace}/pods",
                 {"namespace": namespace}, "Pod", "v1", query)


def get_pod(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    return _raw(kube, Call("get", "pods", name, namespace), "/api/v1/namespaces/{namespace}/pods/{name}",
                {"namespace": namespace, "name": name})


def get_configmap(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    obj = _raw(kube, Call("get", "configmaps", name, namespace), "/api/v1/namespaces/{namespace}/configmaps/{name}",
               {"namespace": namespace, "name": name})
    obj.setdefault("kind", "ConfigMap")
    obj.setdefault("apiVersion", "v1")
    return obj

"""Live cluster edge: the Service and its EndpointSlices from the API, the rules from kube-proxy pods.

Read-only by construction: GET/LIST through kube/reads.py and allow-listed listings through
kube/exec.py. ``gather()`` is what the CLI calls; it returns raw API JSON (the lead's
``manifest.snapshot_from_objects`` converts it, as for ``--manifest``) and one Collection per
node. Which node, when none is named: the node of a ready endpoint (first by name), else the
only node, else the user must say (``--node`` / ``--all-nodes``).
"""

from __future__ import annotations

import concurrent.futures as futures
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

from kubectl_svcpath.collect import kube_proxy_pod as kpp
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.errors import NotFound, SvcpathError, UsageError
from kubectl_svcpath.options import ConnectFlags, split_service

MAX_PARALLEL = 8  # concurrent execs with --all-nodes: enough to hide latency, gentle on the API server


@dataclass
class LiveRequest:
    service: str  # as the user typed it: name, ns/name or svc/name
    namespace: str | None  # -n; None = from the kubeconfig context, else "default"
    kubeconfig: str | None
    context: str | None
    request_timeout: float | None  # seconds; None/0 = no timeout (kubectl's 0)
    node: str | None
    all_nodes: bool
    progress: Callable[[str], None] | None = None  # called with one-line progress messages
    # called with each node's Collection as soon as it is read, in that node's worker thread, so
    # that work such as parsing overlaps the other nodes' collection; a SvcpathError it raises
    # fails that node like a collection error. Its result is NodeResult.prepared.
    prepare: Callable[[Collection], Any] | None = None
    node_addresses: bool = False  # --trace: also read the chosen nodes' addresses from the Node objects
    pod: tuple[str | None, str] | None = None  # --trace pod/NAME: (namespace or None, name) whose IP to read
    flags: ConnectFlags = field(default_factory=ConnectFlags)  # kubectl's --server, --token, --as...
    log: Callable[[str], None] | None = None  # -v N: one line per API request


@dataclass
class NodeResult:
    node: str
    collection: Collection | None
    error: SvcpathError | None
    prepared: Any = None  # what LiveRequest.prepare returned for the collection
    addresses: list[str] = field(default_factory=list)  # the Node's InternalIP/ExternalIP (--trace)


@dataclass
class LiveGathered:
    namespace: str
    objects: list[dict[str, Any]]  # raw API JSON: the Service, then its EndpointSlices
    nodes: list[NodeResult] = field(default_factory=list)
    pod_ip: str | None = None  # --trace pod/NAME: the pod's IP from the API


def _connect(req: LiveRequest) -> Any:
    from kubectl_svcpath.kube.client import connect

    return connect(req.kubeconfig, req.context, req.request_timeout or None, req.flags, req.log)


def _say(req: LiveRequest, msg: str) -> None:
    if req.progress is not None:
        req.progress(msg)


def _service_objects(kube: Any, req: LiveRequest) -> tuple[str, str, list[dict[str, Any]]]:
    from kubectl_svcpath.kube import reads

    ns, name = split_service(req.service, req.namespace)
    ns = ns or kube.namespace
    _say(req, f"reading service {ns}/{name}")
    svc = reads.get_service(kube, ns, name)
    slices = reads.list_endpoint_slices(kube, ns, name)
    return ns, name, [svc, *slices]


def fetch_service_objects(req: LiveRequest) -> tuple[str, list[dict[str, Any]]]:
    """Only the API objects (for --local without --manifest): (namespace, [Service, EndpointSlices…])."""
    kube = _connect(req)
    try:
        ns, _, objects = _service_objects(kube, req)
        return ns, objects
    finally:
        kube.close()


def families_of(service: dict[str, Any]) -> tuple[int, ...]:
    spec = service.get("spec") or {}
    ips = [ip for ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]) if ip and ip != "None"]
    fams = {6 if ":" in ip else 4 for ip in ips}
    for fam in spec.get("ipFamilies") or []:
        fams.add(6 if fam == "IPv6" else 4)
    return tuple(sorted(fams or {4}))


def endpoint_nodes(slices: list[dict[str, Any]]) -> list[str]:
    """Nodes of ready endpoints, sorted by name (ready unset counts as ready, as the API says)."""
    nodes = set()
    for sl in slices:
        for ep in sl.get("endpoints") or []:
            ready = (ep.get("conditions") or {}).get("ready")
            if (ready is None or ready) and ep.get("nodeName"):
                nodes.add(ep["nodeName"])
    return sorted(nodes)


def gather(req: LiveRequest) -> LiveGathered:
    """Read the Service, pick the node(s), collect each node's rules. Raises SvcpathError for whole-run failures.

    Failures before the Service and its EndpointSlices are read are raised. After that, a node's
    failure (no kube-proxy pod, exec forbidden or failing, its rules unreadable) is kept in its
    NodeResult: with one node the caller still reports what the API shows; with --all-nodes the
    other nodes are still read.
    """
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.manifest import convert_service

    kube = _connect(req)
    try:
        ns, name, objects = _service_objects(kube, req)
        service, slices = objects[0], objects[1:]
        convert_service(service, slices)  # ExternalName and the like fail here, before any exec
        families = families_of(service)

        node_objects: dict[str, dict[str, Any]] = {}
        node_ports: list[tuple[str, ...] | None] = []  # kube-proxy's nodePortAddresses, once read
        if req.all_nodes:
            _say(req, "listing nodes and kube-proxy pods")
            node_objects = {(n.get("metadata") or {}).get("name") or "": n for n in reads.list_nodes(kube)}
            node_names = sorted(node_objects)
            if not node_names:
                raise NotFound("the cluster lists no nodes", hint="check with: kubectl get nodes")
            pods = kpp.find_pods(kube)
            config_mode, notes = kpp.read_config_mode(kube, node_ports)
        else:
            node = _pick_node(kube, req, slices)
            try:  # from here on a failure leaves the API's view intact: the report says the rules were not read
                pods = kpp.find_pods(kube, node)
            except SvcpathError as e:
                return LiveGathered(ns, objects, [NodeResult(node, None, e)])
            if not pods.get(node) and req.node:
                _check_node_exists(kube, req.node)
            try:
                config_mode, notes = kpp.read_config_mode(kube, node_ports)
            except SvcpathError as e:
                return LiveGathered(ns, objects, [NodeResult(node, None, e)])

        def one(node: str) -> NodeResult:
            pod = kpp.best_pod(pods.get(node, []), node)
            mode = kpp.decide_mode(config_mode, pod, notes)
            coll = kpp.collect(kube, pod, mode, families)
            coll.node_port_addresses = node_ports[0] if node_ports else None
            obj = node_objects.get(node) if req.all_nodes else _read_node(kube, node, coll)
            if obj is not None:
                coll.node_object, coll.node_object_source = obj, "node"
            return NodeResult(node, coll, None, req.prepare(coll) if req.prepare is not None else None)

        if not req.all_nodes:
            _say(req, f"reading kube-proxy's rules on node {node}")
            try:
                gathered = LiveGathered(ns, objects, [one(node)])
            except SvcpathError as e:
                gathered = LiveGathered(ns, objects, [NodeResult(node, None, e)])
        else:
            gathered = LiveGathered(ns, objects, _all_nodes(req, node_names, one))
        _trace_facts(kube, req, ns, gathered)
        return gathered
    finally:
        kube.close()


def _trace_facts(kube: Any, req: LiveRequest, ns: str, gathered: LiveGathered) -> None:
    """--trace: the nodes' own addresses and the source pod's IP (GETs only)."""
    from kubectl_svcpath.kube import reads

    if req.node_addresses:
        wanted = {n.node for n in gathered.nodes}
        for obj in reads.list_nodes(kube):
            name = (obj.get("metadata") or {}).get("name")
            if name in wanted:
                addrs = [a.get("address") for a in (obj.get("status") or {}).get("addresses") or []
                         if a.get("type") in ("InternalIP", "ExternalIP") and a.get("address")]
                for n in gathered.nodes:
                    if n.node == name:
                        n.addresses = addrs
    if req.pod is not None:
        pod_ns, pod_name = req.pod
        pod = reads.get_pod(kube, pod_ns or ns, pod_name)
        status = pod.get("status") or {}
        gathered.pod_ip = status.get("podIP") or None
        if gathered.pod_ip is None:
            raise NotFound(f"pod {pod_ns or ns}/{pod_name} has no IP yet", hint="give the source address instead: --trace 10.1.2.3")


def _all_nodes(req: LiveRequest, node_names: list[str], one: Callable[[str], NodeResult]) -> list[NodeResult]:
    results: dict[str, NodeResult] = {}
    total = len(node_names)
    with futures.ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, total)) as pool:
        running = {pool.submit(one, n): n for n in node_names}
        for fut in futures.as_completed(running):
            node = running[fut]
            try:
                results[node] = fut.result()
                state = "ok"
            except SvcpathError as e:
                results[node] = NodeResult(node, None, e)
                state = "failed"
            except Exception as e:  # noqa: BLE001 - a bug on one node must not hide the others
                results[node] = NodeResult(node, None, SvcpathError(f"internal error ({type(e).__name__}: {e})"))
                state = "failed"
            _say(req, f"[{len(results)}/{total}] node {node}: {state}")
    return [results[n] for n in node_names]


def _pick_node(kube: Any, req: LiveRequest, slices: list[dict[str, Any]]) -> str:
    from kubectl_svcpath.kube import reads

    if req.node:
        return req.node
    nodes = endpoint_nodes(slices)
    if nodes:
        return nodes[0]
    names = sorted((n.get("metadata") or {}).get("name") or "" for n in reads.list_nodes(kube))
    if len(names) == 1:
        return names[0]
    if not names:
        raise NotFound("the cluster lists no nodes", hint="check with: kubectl get nodes")
    shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
    raise UsageError(f"the Service has no ready endpoint on a known node, so there is no obvious node to read "
                     f"(nodes: {shown})", hint="choose one with --node NAME, or read them all with --all-nodes")


def _read_node(kube: Any, node: str, coll: Collection) -> dict[str, Any] | None:
    """GET the node: its zone label decides which topology hints kube-proxy uses. Optional: a note if denied."""
    from kubectl_svcpath.errors import Forbidden
    from kubectl_svcpath.kube import reads

    try:
        return reads.get_node(kube, node)
    except (NotFound, Forbidden) as e:
        coll.notes.append(f"could not read Node {node} ({e.message}): its zone is inferred from the rules, if at all")
        return None


def _check_node_exists(kube: Any, node: str) -> None:
    from kubectl_svcpath.kube import reads

    names = {(n.get("metadata") or {}).get("name") for n in reads.list_nodes(kube)}
    if node not in names:
        raise NotFound(f'node "{node}" not found', hint="list the nodes with: kubectl get nodes")

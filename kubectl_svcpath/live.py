"""Live cluster edge: the Service and its EndpointSlices from the API, the rules from kube-proxy pods.

Read-only by construction: GET/LIST through kube/reads.py and allow-listed listings through
kube/exec.py. ``open_run()`` is what the app calls: it reads the Service (raw API JSON; the
caller's ``manifest.snapshot_from_objects`` converts it, as for ``--manifest``) and hands back
``LiveRun.results``, each node's Collection as it arrives, so that the caller can parse it and
keep only its report while the other nodes are still read. This module returns data and calls
nothing above it. Which node, when none is named: the node of a ready endpoint (first by name),
else the only node, else the user must say (``--node`` / ``--all-nodes``).
"""

from __future__ import annotations

import concurrent.futures as futures
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from kubectl_svcpath import apifields
from kubectl_svcpath.collect import kube_proxy_pod as kpp
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.errors import NotFound, SvcpathError, Unsupported
from kubectl_svcpath.options import MAX_PARALLEL, ConnectFlags, split_service

FIRST_WAVE = 4  # nodes started before any node's rules have arrived (their size is not known yet)
HELD_BYTES = 256 << 20  # then fewer nodes at a time when each one's rules are big: about this much unparsed at once


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
    node_addresses: bool = False  # --trace: also read the chosen nodes' addresses from the Node objects
    pod: tuple[str | None, str] | None = None  # --trace pod/NAME: (namespace or None, name) whose IP to read
    flags: ConnectFlags = field(default_factory=ConnectFlags)  # kubectl's --server, --token, --as...
    log: Callable[[str], None] | None = None  # -v N: one line per API request
    max_parallel: int = MAX_PARALLEL  # nodes read at once; also bounds the collections held unparsed
    nodes: str | None = None  # --nodes: a label selector or node names (a,b,c); implies several nodes
    sample: int | None = None  # --sample N: N of the (selected) nodes, taken across zones
    proxy_mode: str | None = None  # --proxy-mode: the listings of this mode, whatever kube-proxy's config says
    selector: str | None = None  # -l: --all audits the Services with these labels (kubectl's label selector)

    @property
    def many(self) -> bool:
        """Several nodes: --all-nodes, --nodes or --sample."""
        return self.all_nodes or self.nodes is not None or self.sample is not None


@dataclass
class NodeResult:
    node: str
    collection: Collection | None
    error: SvcpathError | None
    addresses: list[str] = field(default_factory=list)  # the Node's InternalIP/ExternalIP (--trace)


@dataclass
class LiveRun:
    """One live read: the API objects at once, the nodes' rules as they arrive."""

    namespace: str
    objects: list[dict[str, Any]]  # raw API JSON: the Service, then its EndpointSlices
    nodes: list[str]  # the nodes being read, by name
    results: Iterator[NodeResult]  # one per node in the order they finish; iterate inside open_run()
    pod_ip: str | None = None  # --trace pod/NAME: the pod's IP from the API
    skipped: list[tuple[str, str]] = field(default_factory=list)  # several nodes: (node, why not read), e.g. Windows
    sampled: tuple[int, int] | None = None  # --sample N: of how many readable nodes, across how many zones


@dataclass
class LiveGathered:
    namespace: str
    objects: list[dict[str, Any]]  # raw API JSON: the Service, then its EndpointSlices
    nodes: list[NodeResult] = field(default_factory=list)  # by node name
    pod_ip: str | None = None  # --trace pod/NAME: the pod's IP from the API


@dataclass
class _Plan:
    """What every node's read shares: its kube-proxy pods, the configured mode, the Node objects."""

    nodes: list[str]
    pods: dict[str, list[kpp.ProxyPod]] = field(default_factory=dict)
    config: kpp.Config = field(default_factory=lambda: kpp.Config(None))  # ConfigMap kube-system/kube-proxy's
    notes: list[str] = field(default_factory=list)  # why this node was read, when it is no node of the Service's own
    node_objects: dict[str, dict[str, Any]] | None = None  # several nodes: from the LIST; None: GET each
    node_got: futures.Future[dict[str, Any] | SvcpathError] | None = None  # one node: its GET, started early
    failed: SvcpathError | None = None  # one node: what stopped its read before any exec
    not_netfilter: str | None = None  # one node: why it has no rules to read (a Windows node), when that stopped it
    skipped: list[tuple[str, str]] = field(default_factory=list)  # several nodes: those not read, and why
    sampled: tuple[int, int] | None = None  # --sample N: of how many readable nodes, across how many zones
    # the configurations kube-proxy pods read from other ConfigMaps (EKS: kube-proxy-config), read once for every node
    other_configs: dict[tuple[str, str], kpp.Config] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def other_config(self, kube: Any, name: str, key: str) -> kpp.Config:
        with self.lock:
            if (name, key) not in self.other_configs:
                self.other_configs[name, key] = kpp.read_config(kube, name, key)
            return self.other_configs[name, key]


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
    svc = _get_service(kube, ns, name)
    slices = reads.list_endpoint_slices(kube, ns, name)
    return ns, name, [svc, *slices]


def _get_service(kube: Any, ns: str, name: str) -> dict[str, Any]:
    """GET the Service; a 404 says where a Service of that name is, or the close names (kube/near.py)."""
    from kubectl_svcpath.kube import reads

    try:
        return reads.get_service(kube, ns, name)
    except NotFound as e:
        from kubectl_svcpath.kube.near import service_not_found

        raise service_not_found(kube, ns, name, e) from None


def fetch_service_objects(req: LiveRequest) -> tuple[str, list[dict[str, Any]]]:
    """Only the API objects (for --local without --manifest): (namespace, [Service, EndpointSlices…])."""
    kube = _connect(req)
    try:
        ns, _, objects = _service_objects(kube, req)
        return ns, objects
    finally:
        kube.close()


def node_object(req: LiveRequest, name: str) -> dict[str, Any] | None:
    """The Node called ``name`` (for --local), or None when there is none (or it may not be read)."""
    kube = _connect(req)
    try:
        got = _get_node(kube, name)
    finally:
        kube.close()
    if isinstance(got, SvcpathError):
        return None
    got.setdefault("kind", "Node")
    return got


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


@contextmanager
def open_run(req: LiveRequest) -> Iterator[LiveRun]:
    """Read the Service, pick the node(s); ``results`` then reads each node's rules. Raises SvcpathError
    for whole-run failures.

    Failures before the Service and its EndpointSlices are read are raised. After that, a node's
    failure (no kube-proxy pod, exec forbidden or failing, its rules unreadable) is kept in its
    NodeResult: with one node the caller still reports what the API shows; with several nodes the
    other nodes are still read. At most ``req.max_parallel`` nodes are read at once, and a node
    is started only while fewer than that are read and not yet taken from ``results``.
    """
    kube = _connect(req)
    pool = futures.ThreadPoolExecutor(max_workers=6, thread_name_prefix="svcpath-api")
    try:
        yield _start(kube, req, pool)
    finally:
        kube.close()  # first: an exec still read (the caller left early) gives up instead of holding the exit
        pool.shutdown(wait=False, cancel_futures=True)


def _start(kube: Any, req: LiveRequest, pool: futures.ThreadPoolExecutor) -> LiveRun:
    """The reads that do not depend on each other go out at once: the Service, its EndpointSlices,
    kube-proxy's ConfigMap and, when --node names it, the node's kube-proxy pods and Node object
    (several nodes: the Node LIST and every kube-proxy pod); otherwise the node's pods are listed as
    soon as the EndpointSlices say which node it is."""
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.manifest import convert_service

    ns, name = split_service(req.service, req.namespace)
    ns = ns or kube.namespace
    _say(req, f"reading service {ns}/{name}")
    service_f = pool.submit(_get_service, kube, ns, name)
    slices_f = pool.submit(reads.list_endpoint_slices, kube, ns, name)
    config_f = pool.submit(_read_config, kube)
    named = req.node if not req.many else None
    pods_f = pool.submit(kpp.find_pods, kube, named) if named or req.many else None
    node_f = pool.submit(_get_node, kube, named) if named else None
    nodes_f = pool.submit(_chosen_nodes, kube, req) if req.many else None
    service, slices = service_f.result(), slices_f.result()
    convert_service(service, slices)  # ExternalName and the like fail here, before any exec
    if nodes_f is not None and pods_f is not None:
        plan = _plan_many(req, nodes_f, pods_f, config_f)
    else:
        node, why = (named, None) if named else _pick_node(kube, req, slices)
        plan = _plan_one(kube, req, node, pods_f or pool.submit(kpp.find_pods, kube, node), config_f,
                         node_f or pool.submit(_get_node, kube, node))
        if plan.not_netfilter and named and plan.failed is not None:  # the user's choice: one line, nothing to show
            raise plan.failed
        instead = _linux_instead(kube, slices, node) if plan.not_netfilter and not named else None
        if instead is not None:  # the endpoints' node is a Windows node: a Linux node holds the Service's rules too
            why = f"node {instead[0]} is {instead[1]}, read instead of node {node}, {plan.not_netfilter}"
            node = instead[0]
            plan = _plan_one(kube, req, node, pool.submit(kpp.find_pods, kube, node), config_f, pool.submit(_get_node, kube, node))
        if why is not None:
            plan.notes = [why, *plan.notes]
    addresses = _node_addresses(kube, plan) if req.node_addresses else {}
    pod_ip = _pod_ip(kube, req.pod, ns) if req.pod is not None else None
    results = _results(kube, req, plan, families_of(service), addresses, pool)
    return LiveRun(ns, [service, *slices], plan.nodes, results, pod_ip, plan.skipped, plan.sampled)


def gather(req: LiveRequest) -> LiveGathered:
    """Every node's result at once, by node name (tests, benchmarks; the app takes ``open_run``)."""
    with open_run(req) as run:
        by_node = {r.node: r for r in run.results}
        return LiveGathered(run.namespace, run.objects, [by_node[n] for n in run.nodes], run.pod_ip)


def _plan_many(req: LiveRequest, nodes_f: futures.Future[_Chosen],
               pods_f: futures.Future[dict[str, list[kpp.ProxyPod]]], config_f: futures.Future[_Config]) -> _Plan:
    _say(req, "listing nodes and kube-proxy pods")
    node_objects, skipped, sampled = nodes_f.result()
    plan = _Plan(sorted(node_objects), pods_f.result(), node_objects=node_objects, skipped=skipped, sampled=sampled)
    plan.config = config_f.result()
    return plan


_Chosen = tuple[dict[str, dict[str, Any]], list[tuple[str, str]], tuple[int, int] | None]


def _chosen_nodes(kube: Any, req: LiveRequest) -> _Chosen:
    """The Node objects to read: every node, those --nodes names or selects, --sample N of them; and
    the chosen nodes that have no rules to read (Windows nodes), with why: skipped up front, named in
    the report, never a failure of the run (unless no node is left)."""
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.node_choice import name_of, parse_nodes_flag, readable, sample_across_zones, zone_of

    selector, names = parse_nodes_flag(req.nodes) if req.nodes is not None else (None, None)
    found = {name_of(n): n for n in reads.list_nodes(kube, selector)}
    if names is not None:
        missing = [n for n in names if n not in found]
        if missing:
            from kubectl_svcpath.kube.near import node_not_found

            err = node_not_found(missing[0], sorted(found))
            raise NotFound(err.message + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""), hint=err.hint,
                           subject=err.subject)
        found = {n: found[n] for n in names}
    if not found:
        if selector is not None:
            raise NotFound(f'no node matches the label selector "{selector}"',
                           hint=f"check with: kubectl get nodes -l '{selector}'")
        raise NotFound("the cluster lists no nodes", hint="check with: kubectl get nodes")
    keep, skipped = readable(list(found.values()))
    if not keep:
        raise _none_readable(skipped)
    found = {name_of(n): n for n in keep}
    sampled = None
    if req.sample is not None:
        sampled = (len(found), len({zone_of(n) for n in found.values()}))
        found = {n: found[n] for n in sample_across_zones(list(found.values()), req.sample)}
    return found, skipped, sampled


def _none_readable(skipped: list[tuple[str, str]]) -> Unsupported:
    from kubectl_svcpath.wording import counted

    first, why = skipped[0]
    more = f" (and {counted(len(skipped) - 1, 'other node')} alike)" if len(skipped) > 1 else ""
    return Unsupported(f"no node to read: node {first} is {why}{more}",
                       hint="read Linux nodes: --nodes kubernetes.io/os=linux, or --node NAME")


def _plan_one(kube: Any, req: LiveRequest, node: str, pods_f: futures.Future[dict[str, list[kpp.ProxyPod]]],
              config_f: futures.Future[_Config], node_got: futures.Future[dict[str, Any] | SvcpathError]) -> _Plan:
    plan = _Plan([node], node_got=node_got)
    try:  # from here on a failure leaves the API's view intact: the report says the rules were not read
        plan.pods = pods_f.result()
    except SvcpathError as e:
        plan.failed = e
        return plan
    pods = plan.pods.get(node)
    if not pods and req.node:
        _check_node_exists(kube, req.node, node_got)
    if not pods or all(p.os == "windows" for p in pods):  # (kube-proxy's Linux DaemonSet found: no Node to wait for)
        plan.not_netfilter = _not_netfilter(node_got)
        if plan.not_netfilter is not None:
            from kubectl_svcpath.node_choice import LINUX_HINT

            plan.failed = Unsupported(f"node {node} is {plan.not_netfilter}: it has no rules kubectl-svcpath can read",
                                      hint=LINUX_HINT)
            return plan
    try:
        plan.config = config_f.result()
    except SvcpathError as e:
        plan.failed = e
    return plan


_Config = kpp.Config


def _read_config(kube: Any) -> _Config:
    """ConfigMap kube-system/kube-proxy's configuration: its mode, notes on reading it, its nodePortAddresses."""
    return kpp.read_config(kube)


def _collect_node(kube: Any, plan: _Plan, families: tuple[int, ...], node: str, many: bool = False,
                  chosen_mode: str | None = None) -> NodeResult:
    pods = plan.pods.get(node, [])
    if not pods:  # none labelled as kube-proxy's: a pod whose container runs it, else what runs there instead
        from kubectl_svcpath.collect.no_proxy_pod import on_the_node

        pods = on_the_node(kube, node, _node_seen(plan, node))
    pod = kpp.best_pod(pods, node)
    config = kpp.pods_config(pod, plan.config, lambda name, key: plan.other_config(kube, name, key))
    mode = kpp.decide_mode(config.mode, pod, [*plan.notes, *config.notes], chosen_mode, config.source)
    coll = kpp.collect(kube, pod, mode, families, piecewise=not many)
    coll.node_port_addresses = config.node_ports
    if plan.node_objects is not None:
        obj = plan.node_objects.get(node)
    else:
        got = plan.node_got.result() if plan.node_got is not None else _get_node(kube, node)
        obj = _node_or_note(node, got, coll)
    if obj is not None:
        coll.node_object, coll.node_object_source = obj, "node"
    return NodeResult(node, coll, None)


def _node_seen(plan: _Plan, node: str) -> dict[str, Any] | None:
    """The Node object already read (the LIST of several nodes, or the one node's GET), else None."""
    if plan.node_objects is not None:
        return plan.node_objects.get(node)
    try:
        got = plan.node_got.result() if plan.node_got is not None else None
    except SvcpathError:
        return None
    return got if isinstance(got, dict) else None


def _results(kube: Any, req: LiveRequest, plan: _Plan, families: tuple[int, ...],
             addresses: dict[str, list[str]], pool: futures.ThreadPoolExecutor) -> Iterator[NodeResult]:
    """The nodes' results as they come. One node: its read starts now, in ``pool``, so that the
    exec is under way while the caller converts the API objects (and imports what parses them)."""

    def one(node: str) -> NodeResult:
        try:
            result = _collect_node(kube, plan, families, node, req.many, req.proxy_mode)
        except SvcpathError as e:
            result = NodeResult(node, None, e)
        except Exception as e:  # noqa: BLE001 - a bug on one node must not hide the others
            if not req.many:
                raise
            result = NodeResult(node, None, SvcpathError(f"internal error ({type(e).__name__}: {e})"))
        result.addresses = addresses.get(node, [])
        return result

    if plan.failed is not None:
        return iter([NodeResult(plan.nodes[0], None, plan.failed)])
    if not req.many:
        _say(req, f"reading kube-proxy's rules on node {plan.nodes[0]}")
        started = pool.submit(one, plan.nodes[0])
        return (f.result() for f in [started])
    return _in_parallel(req, plan.nodes, one)


def _in_parallel(req: LiveRequest, nodes: list[str], one: Callable[[str], NodeResult]) -> Iterator[NodeResult]:
    """``one(node)`` for every node, up to ``req.max_parallel`` at a time, each result as soon as it is ready.

    ``FIRST_WAVE`` nodes start at once; as results arrive, up to max_parallel, as long as that many
    of the largest node's rules seen so far stay within ``HELD_BYTES`` (never fewer than one). A node
    starts only when one finishes, so no more than max_parallel + 1 collections are held (those being
    read and the one the caller is working on); leaving early cancels the rest.
    """
    limit = max(1, min(req.max_parallel, len(nodes)))
    waiting = iter(nodes)
    done = largest = 0
    # (until the first node is done the line said "listing nodes and kube-proxy pods": the reads looked stuck)
    _say(req, f"[0/{len(nodes)}] reading kube-proxy's rules on {len(nodes)} nodes, {limit} at a time")
    with futures.ThreadPoolExecutor(max_workers=limit) as pool:
        running = {pool.submit(one, n) for n in _take(waiting, min(limit, FIRST_WAVE))}
        try:
            while running:
                finished, running = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                for fut in finished:
                    result = fut.result()
                    largest = max(largest, _rules_size(result))
                    room = max(1, min(limit, HELD_BYTES // max(1, largest))) - len(running)
                    running |= {pool.submit(one, n) for n in _take(waiting, room)}
                    done += 1
                    _say(req, f"[{done}/{len(nodes)}] node {result.node}: {'ok' if result.error is None else 'failed'}")
                    yield result
        finally:
            for fut in running:
                fut.cancel()


def _rules_size(result: NodeResult) -> int:
    return sum(len(d.text) for d in result.collection.dumps) if result.collection is not None else 0


def _take(it: Iterator[str], n: int) -> list[str]:
    return list(itertools.islice(it, max(0, n)))


def _node_addresses(kube: Any, plan: _Plan) -> dict[str, list[str]]:
    """--trace: the nodes' own InternalIP/ExternalIP addresses (one LIST, or the one already made)."""
    from kubectl_svcpath.kube import reads

    objects = plan.node_objects.values() if plan.node_objects is not None else reads.list_nodes(kube)
    wanted = set(plan.nodes)
    out: dict[str, list[str]] = {}
    for obj in objects:
        name = apifields.text(obj, "metadata", "name")
        if name in wanted:
            out[name] = apifields.addresses(obj)
    return out


def _pod_ip(kube: Any, ref: tuple[str | None, str], ns: str) -> str:
    """--trace pod/NAME: the source pod's IP (GET)."""
    from kubectl_svcpath.kube import reads

    pod_ns, pod_name = ref
    ip = ((reads.get_pod(kube, pod_ns or ns, pod_name).get("status") or {}).get("podIP")) or None
    if ip is None:
        raise NotFound(f"pod {pod_ns or ns}/{pod_name} has no IP yet", hint="give the source address instead: --trace 10.1.2.3")
    return str(ip)


def _pick_node(kube: Any, req: LiveRequest, slices: list[dict[str, Any]]) -> tuple[str, str | None]:
    """The node to read, and a note when it is no node of the Service's own."""
    if req.node:
        return req.node, None
    nodes = endpoint_nodes(slices)
    if nodes:
        return nodes[0], None
    node, only = _first_node(kube)
    if only:
        return node, None
    return node, (f"node {node} is the first Ready node by name: no ready endpoint of the Service is on a known node, "
                  "so no node is its own (--node NAME for another, --all-nodes for every one)")


def _first_node(kube: Any) -> tuple[str, bool]:
    """(the first Ready node by name, else the first by name; whether it is the cluster's only node).

    Without a ready endpoint on a known node (no endpoints: the classic outage) no node is the
    Service's own, and kube-proxy writes its rules on every node from the same objects."""
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.node_choice import name_of, readable

    from kubectl_svcpath.errors import Forbidden

    try:
        listed = sorted(reads.list_nodes(kube), key=name_of)
    except Forbidden as e:  # (the one reason the nodes are listed here: say it, and how to go without)
        raise Forbidden(f"{e.message} (to choose a node: no ready endpoint names one)",
                        hint="name the node to read: --node NAME (kube-proxy's nodes: kubectl get pods -n kube-system "
                             "-l k8s-app=kube-proxy -o wide); or " + (e.hint or "kubectl auth can-i list nodes")) from None
    if not listed:
        raise NotFound("the cluster lists no nodes", hint="check with: kubectl get nodes")
    linux = readable(listed)[0] or listed  # a Windows node has no rules to read (a cluster of only those: said there)
    ready = [n for n in linux if _is_ready(n)]
    return name_of((ready or linux)[0]), len(listed) == 1


def _get_node(kube: Any, node: str) -> dict[str, Any] | SvcpathError:
    """GET the node: its zone label decides which topology hints kube-proxy uses. Optional: a denied
    or missing Node is handed back (the report notes it), other failures are raised."""
    from kubectl_svcpath.errors import Forbidden
    from kubectl_svcpath.kube import reads

    try:
        return reads.get_node(kube, node)
    except (NotFound, Forbidden) as e:
        return e


def _node_or_note(node: str, got: dict[str, Any] | SvcpathError, coll: Collection) -> dict[str, Any] | None:
    if isinstance(got, SvcpathError):
        from kubectl_svcpath.errors import Forbidden

        check = f" (check: {got.hint.split(';')[0]})" if isinstance(got, Forbidden) and got.hint else ""
        coll.notes.append(f"could not read Node {node} ({got.message}): its zone is inferred from the rules, if at all{check}")
        return None
    return got


def _not_netfilter(node_got: futures.Future[dict[str, Any] | SvcpathError]) -> str | None:
    """Why the node (its GET) has no netfilter rules to read: a Windows node; None when it may have them or is unknown."""
    from kubectl_svcpath.node_choice import not_netfilter

    try:
        got = node_got.result()
    except SvcpathError:  # (the read itself says what failed, as without this check)
        return None
    return not_netfilter(got) if isinstance(got, dict) else None


def _linux_instead(kube: Any, slices: list[dict[str, Any]], skip: str) -> tuple[str, str] | None:
    """The node to read when the one chosen by its endpoints is a Windows node: the first Linux node
    (by name) with a ready endpoint, else the first Ready Linux node; (name, how it was chosen)."""
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.node_choice import name_of, readable

    listed, _ = readable(sorted(reads.list_nodes(kube), key=name_of))
    names = {name_of(n) for n in listed} - {skip}
    with_endpoint = [n for n in endpoint_nodes(slices) if n in names]
    if with_endpoint:
        return with_endpoint[0], "the first Linux node by name with a ready endpoint"
    ready = [name_of(n) for n in listed if name_of(n) in names and _is_ready(n)]
    if ready or names:
        return (ready or sorted(names))[0], ("the first Ready Linux node by name (kube-proxy writes every Service's "
                                            "rules on every node)")
    return None


def _is_ready(node: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in (node.get("status") or {}).get("conditions") or [])


def _check_node_exists(kube: Any, node: str, node_got: futures.Future[dict[str, Any] | SvcpathError]) -> None:
    """--node NAME of no node: NotFound, with the close node names. The node's GET says first; the node LIST
    (for the close names, or when the GET may not be made) is only a hint's: denied, the hint goes without."""
    from kubectl_svcpath.errors import Forbidden
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.kube.near import node_not_found

    try:
        got = node_got.result()
    except SvcpathError:
        got = None
    if isinstance(got, dict):
        return
    try:
        names = {apifields.text(n, "metadata", "name") for n in reads.list_nodes(kube)}
    except Forbidden:
        if isinstance(got, NotFound):
            raise node_not_found(node, []) from None
        raise
    if node not in names:
        raise node_not_found(node, sorted(n for n in names if n))


# --- the audit (--all): every Service of a namespace, or of the cluster, against one node's rules ----

@dataclass
class LiveAudit:
    namespace: str | None  # None: every namespace (-A)
    objects: list[dict[str, Any]]  # raw API JSON: the Services, then the EndpointSlices
    node: str
    chosen_by: str  # why this node: what the header says
    results: Iterator[NodeResult]  # the node's rules, read once (or why they could not be): next() waits for them

    def result(self) -> NodeResult:
        return next(self.results)


@contextmanager
def open_audit(req: LiveRequest, all_namespaces: bool) -> Iterator[LiveAudit]:
    """LIST the Services and EndpointSlices of the namespace (or all) and start reading ONE node's rules.

    The node: --node, else the first node by name with a ready endpoint of any of these Services
    (the rule for one Service), else the cluster's only node. Failures of the LISTs are raised; a
    failure to read the node's rules is kept in ``result()`` (the caller says what and why). The
    node's read is under way when this yields: the caller converts the objects meanwhile.
    """
    from kubectl_svcpath.kube import reads

    kube = _connect(req)
    pool = futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="svcpath-api")
    try:
        ns = None if all_namespaces else (req.namespace or kube.namespace)
        _say(req, f"listing services and endpointslices {'in all namespaces' if ns is None else f'in namespace {ns}'}")
        slices_f = pool.submit(reads.list_all_endpoint_slices, kube, ns)  # beside the Services: pages of both at once
        config_f = pool.submit(_read_config, kube)
        services = reads.list_services(kube, ns, req.selector)
        if not services:  # as kubectl get says "No resources found": nothing to audit, no node to read
            raise _no_services(ns, req.selector)
        slices = slices_f.result()
        if req.selector:  # only the selected Services' slices (they also choose the node)
            names = {((s.get("metadata") or {}).get("namespace"), (s.get("metadata") or {}).get("name")) for s in services}
            slices = [s for s in slices if ((s.get("metadata") or {}).get("namespace"),
                                            ((s.get("metadata") or {}).get("labels") or {}).get(reads.SERVICE_NAME_LABEL)) in names]
        node, chosen_by = _audit_node(kube, req, slices)
        families = tuple(sorted({f for svc in services for f in families_of(svc)} or {4}))
        plan = _plan_one(kube, replace(req, node=node), node, pool.submit(kpp.find_pods, kube, node), config_f,
                         pool.submit(_get_node, kube, node))
        instead = _linux_instead(kube, slices, node) if plan.not_netfilter and not req.node else None
        if instead is not None:  # chosen by its endpoints, a Windows node: a Linux node holds the same Services' rules
            chosen_by = f"{instead[1]}; node {node} was {plan.not_netfilter}"
            node = instead[0]
            plan = _plan_one(kube, replace(req, node=node), node, pool.submit(kpp.find_pods, kube, node), config_f,
                             pool.submit(_get_node, kube, node))
        yield LiveAudit(ns, [*services, *slices], node, chosen_by, _results(kube, req, plan, families, {}, pool))
    finally:
        kube.close()  # first: a read still under way (the caller left early) gives up instead of holding the exit
        pool.shutdown(wait=False, cancel_futures=True)


def _no_services(ns: str | None, selector: str | None) -> NotFound:
    where = f'in namespace "{ns}"' if ns else "in the cluster"
    if selector:
        scope = f"-n {ns}" if ns else "-A"
        return NotFound(f'no Service matches the label selector "{selector}" {where}',
                        hint=f"check with: kubectl get services {scope} -l '{selector}'")
    return NotFound(f"no Service {where}", hint="list them with: kubectl get services -A")


def _audit_node(kube: Any, req: LiveRequest, slices: list[dict[str, Any]]) -> tuple[str, str]:
    if req.node:
        return req.node, "chosen with --node"
    nodes = endpoint_nodes(slices)
    if nodes:
        return nodes[0], "the first node by name with a ready endpoint (--node NAME for another)"
    node, only = _first_node(kube)
    if only:
        return node, "the cluster's only node"
    return node, "the first Ready node by name: no Service here has a ready endpoint on a known node (--node NAME for another)"

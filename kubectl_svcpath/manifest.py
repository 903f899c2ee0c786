"""API objects (as `kubectl get … -o json|yaml` prints them) -> ServiceSnapshot. Pure.

Live mode hands the same raw JSON here, so offline ``--manifest`` and live runs share one
converter.
"""

from __future__ import annotations

import json
from typing import Any

from kubectl_svcpath.apishape import check_object
from kubectl_svcpath.errors import BadDump, NotFound, Unsupported
from kubectl_svcpath.snapshot import Endpoint, ServicePort, ServiceSnapshot
from kubectl_svcpath.wording import agrees, counted


# `kubectl get service,endpointslices -o json` of a whole large cluster fits; YAML is read at about
# 1 MB per CPU-second even by the C loader (JSON at 50), so its limit keeps a run under ~10 s
MAX_MANIFEST_BYTES = {"JSON": 64 * 1024 * 1024, "YAML": 8 * 1024 * 1024}


def load_objects(text: str, source: str) -> list[dict[str, Any]]:
    """Objects from JSON or (multi-document) YAML; a v1 List is flattened.

    YAML aliases are refused (kubectl never writes them; a few lines of them expand to billions
    of nodes: the "billion laughs"), the C loader is used where PyYAML has it, and every Service
    and EndpointSlice is checked against the API's shapes (apishape.check_object).
    """
    docs: list[Any]
    is_json = text.lstrip().startswith(("{", "["))
    form = "JSON" if is_json else "YAML"
    if len(text) > MAX_MANIFEST_BYTES[form]:
        raise BadDump(source, f"{form} manifest is over the {MAX_MANIFEST_BYTES[form] // (1024 * 1024)} MiB limit",
                      hint="pass only the Service and its EndpointSlices (kubectl get service,endpointslices "
                           "-l kubernetes.io/service-name=NAME ...), or -o json (64 MiB)")
    try:
        if is_json:
            docs = [json.loads(text)]
        else:
            import yaml  # only offline manifests need it

            docs = list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))  # noqa: S506
    except RecursionError:
        raise BadDump(source, "manifest nested too deeply to be Kubernetes objects") from None
    except Exception as e:  # json and yaml raise many kinds; all mean "not a manifest"
        reason = str(e).splitlines()[0][:120] if str(e) else ""
        if "integer string conversion" in reason:
            reason = "a number with more than 4300 digits"
        _rule_dump(text, source)
        raise BadDump(source, f"not a JSON or YAML manifest ({type(e).__name__}: {reason})",
                      hint="pass what `kubectl get service,endpointslices -o yaml` prints") from None
    if not is_json:  # JSON has no aliases: json.loads makes every object anew
        _refuse_aliases(docs, source)
    objects: list[dict[str, Any]] = []
    for doc in docs:
        if doc is None:
            continue
        if isinstance(doc, list):
            objects.extend(d for d in doc if isinstance(d, dict))
        elif isinstance(doc, dict) and isinstance(doc.get("items"), list):
            objects.extend(d for d in doc["items"] if isinstance(d, dict))
        elif isinstance(doc, dict):
            objects.append(doc)
    for o in objects:
        check_object(o, source)
    if not any(o.get("kind") == "Service" for o in objects):
        _rule_dump(text, source)
        raise BadDump(source, "no Service object in the manifest",
                      hint="pass what `kubectl get service,endpointslices -o yaml` prints")
    return objects


def _rule_dump(text: str, source: str) -> None:
    """A rule dump passed as --manifest (the two files swapped: iptables-save's `*nat` reads as a YAML alias, nft -j
    as JSON without a Service): refused as what it is, with the flag that takes it."""
    from kubectl_svcpath.parse import detect_format

    try:
        form = detect_format(text, source)
    except BadDump:
        return
    raise BadDump(source, f"a rule dump ({form}), not a manifest",
                  hint="pass it with --rules-file; --manifest takes what `kubectl get service,endpointslices -o yaml` prints")


def node_object(objects: list[dict[str, Any]] | None, node: str | None) -> dict[str, Any] | None:
    """The Node named ``node`` in a manifest, or its only Node when no node is named."""
    nodes = [o for o in objects or [] if o.get("kind") == "Node"]
    if node is not None:
        return next((o for o in nodes if _meta(o).get("name") == node), None)
    return nodes[0] if len(nodes) == 1 else None


def _refuse_aliases(docs: list[Any], source: str) -> None:
    """A YAML alias makes the loader share one list or mapping between places: find any (linear)."""
    seen: set[int] = set()
    stack = list(docs)
    while stack:
        node = stack.pop()
        if isinstance(node, (dict, list)):
            if id(node) in seen:
                raise BadDump(source, "YAML aliases (&anchor / *alias) are not accepted in a manifest",
                              hint="kubectl never writes them: pass what `kubectl get service,endpointslices -o yaml` prints")
            seen.add(id(node))
            stack.extend(node.values() if isinstance(node, dict) else node)


def audit_snapshots(objects: list[dict[str, Any]], namespace: str | None = None) -> tuple[list[ServiceSnapshot], list[str]]:
    """--all: every Service of the objects (in ``namespace``, when given) with its own EndpointSlices,
    the slices grouped in one pass; and a note for the ExternalName Services left out (no rules to audit)."""
    slices: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for o in objects:
        if o.get("kind") == "EndpointSlice":
            owner = (_meta(o).get("labels") or {}).get("kubernetes.io/service-name")
            if owner:
                slices.setdefault((_meta(o).get("namespace") or "default", owner), []).append(o)
    snapshots: list[ServiceSnapshot] = []
    external: list[str] = []
    for o in objects:
        if o.get("kind") != "Service":
            continue
        ns, name = _meta(o).get("namespace") or "default", _meta(o).get("name") or ""
        if namespace is not None and ns != namespace:
            continue
        if (o.get("spec") or {}).get("type") == "ExternalName":
            external.append(f"{ns}/{name}")
            continue
        own = sorted(slices.get((ns, name), []), key=lambda sl: _meta(sl).get("name") or "")
        snapshots.append(convert_service(o, own))
    notes = []
    if external:
        shown = ", ".join(sorted(external)[:5]) + (", …" if len(external) > 5 else "")
        notes.append(f"{counted(len(external), 'ExternalName Service')} left out ({shown}): kube-proxy writes no rules for "
                     f"{agrees(len(external), 'it', 'them')}; "
                     "cluster DNS answers with a CNAME")
    return snapshots, notes


def snapshot_from_objects(objects: list[dict[str, Any]], namespace: str | None, name: str,
                          held_by: str | None = None) -> ServiceSnapshot:
    """The Service ``namespace/name`` (any namespace when None) and its EndpointSlices. ``held_by``: the
    objects are a file or the example ("svc.yaml holds"), whose Services a "not found" names."""
    svc = None
    for o in objects:
        if o.get("kind") == "Service" and _meta(o).get("name") == name and (
            namespace is None or (_meta(o).get("namespace") or "default") == namespace
        ):
            svc = o
            break
    if svc is None:
        where = f' in namespace "{namespace}"' if namespace else ""
        if held_by is not None:
            from kubectl_svcpath.held import holds

            names = [f"{_meta(o).get('namespace') or 'default'}/{_meta(o).get('name')}" for o in objects if o.get("kind") == "Service"]
            raise NotFound(f'service "{name}" not found{where}', hint=holds(held_by, name, names), subject="services")
        raise NotFound(f'service "{name}" not found{where}', subject="services",
                       hint="check the name and the namespace (-n); `kubectl get svc -A | grep NAME` finds it")
    ns = _meta(svc).get("namespace") or "default"
    slices = [
        o for o in objects
        if o.get("kind") == "EndpointSlice"
        and (_meta(o).get("namespace") or "default") == ns
        and (_meta(o).get("labels") or {}).get("kubernetes.io/service-name") == name
    ]
    return convert_service(svc, slices)


def convert_service(svc: dict[str, Any], slices: list[dict[str, Any]]) -> ServiceSnapshot:
    meta, spec = _meta(svc), svc.get("spec") or {}
    status = svc.get("status") or {}
    stype = spec.get("type") or "ClusterIP"
    if stype == "ExternalName":
        target = spec.get("externalName") or "its external name"
        raise Unsupported(f'service "{meta.get("name")}" is of type ExternalName: kube-proxy writes no rules for it; '
                          f'cluster DNS answers with a CNAME to {target}')
    ports = tuple(
        ServicePort(
            name=p.get("name") or "",
            protocol=(p.get("protocol") or "TCP").upper(),
            port=int(p.get("port") or 0),
            target_port=p.get("targetPort", p.get("port")),
            node_port=p.get("nodePort"),
        )
        for p in spec.get("ports") or []
    )
    cluster_ips = tuple(spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []))
    # ipMode Proxy ingress IPs get no rules (serviceport.go): expected.py says so in a note
    lb_ips = tuple(i.get("ip") for i in ((status.get("loadBalancer") or {}).get("ingress") or [])
                   if i.get("ip") and i.get("ipMode") != "Proxy")
    affinity_cfg = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
    endpoints: dict[str, list[Endpoint]] = {p.name: [] for p in ports}
    for sl in slices:
        slice_ports = {(sp.get("name") or ""): sp.get("port") for sp in sl.get("ports") or []}
        # (each port's list and the slice's port for it: 10^5 endpoints of a live --all go through here)
        per_port = [(eps.append, slice_ports.get(pname)) for pname, eps in endpoints.items()]
        for ep in sl.get("endpoints") or []:
            cond = ep.get("conditions") or {}
            ready = cond.get("ready")
            ready = True if ready is None else bool(ready)  # nil means ready (API doc)
            serving = cond.get("serving")
            serving = ready if serving is None else bool(serving)
            terminating = bool(cond.get("terminating") or False)
            node, zone, pod = ep.get("nodeName"), ep.get("zone"), (ep.get("targetRef") or {}).get("name")
            for addr in ep.get("addresses") or []:
                for add, port in per_port:
                    add(Endpoint(addr, port, ready, serving, terminating, node, zone, pod))
    return ServiceSnapshot(
        namespace=meta.get("namespace") or "default",
        name=meta.get("name") or "",
        type=stype,
        cluster_ips=cluster_ips,
        ports=ports,
        external_ips=tuple(spec.get("externalIPs") or ()),
        load_balancer_ips=lb_ips,
        load_balancer_source_ranges=tuple(spec.get("loadBalancerSourceRanges") or ()),
        external_traffic_policy=spec.get("externalTrafficPolicy") or "Cluster",
        internal_traffic_policy=spec.get("internalTrafficPolicy") or "Cluster",
        session_affinity=spec.get("sessionAffinity") or "None",
        affinity_timeout=affinity_cfg,
        health_check_node_port=spec.get("healthCheckNodePort"),
        endpoints={k: tuple(v) for k, v in endpoints.items()},
        has_slices=bool(slices),
        from_api=True,
        api_objects=(svc, *slices),
    )


def _meta(o: dict[str, Any]) -> dict[str, Any]:
    m = o.get("metadata")
    return m if isinstance(m, dict) else {}

"""No pod of the node carries kube-proxy's labels: look at what kube-system runs there (one more LIST the printed
RBAC grants). A pod whose container runs kube-proxy (a DaemonSet or static pod of other labels) is read as its
pod; otherwise the error says what runs there instead (a Cilium agent), and the command that shows it."""

from __future__ import annotations

from typing import Any

from kubectl_svcpath import apifields
from kubectl_svcpath.collect.kube_proxy_pod import (LABEL_SELECTORS, NAMESPACE, ProxyPod, image_name, pod_from_json,
                                                     runs_kube_proxy)
from kubectl_svcpath.errors import NotFound, SvcpathError
from kubectl_svcpath.kube import reads
from kubectl_svcpath.kube.client import Kube


def on_the_node(kube: Kube, node: str) -> list[ProxyPod]:
    """The kube-system pods on ``node`` whose container runs kube-proxy, each with that container; raises
    NotFound (exit 4) when there is none, its hint naming what runs there and what to run."""
    try:
        objs = reads.list_pods(kube, NAMESPACE, None, f"spec.nodeName={node}")
    except SvcpathError:
        objs = None  # (the same read as the label lookups: it failed the same way, or the server is in trouble)
    found = [pod for obj in objs or [] if (pod := _proxy_pod(obj)) is not None]
    if found:
        return found
    labels = " or ".join(LABEL_SELECTORS)
    if objs is None:
        raise NotFound(f'no kube-proxy pod on node "{node}" (namespace {NAMESPACE}, labels {labels})', hint=_hint(node))
    cilium = next((obj for obj in objs if _container(obj, _is_cilium) is not None), None)
    raise NotFound(f'no kube-proxy pod on node "{node}" (namespace {NAMESPACE}: no pod labelled {labels}, '
                   "no container running kube-proxy)", hint=_cilium_hint(cilium) if cilium is not None else _hint(node))


def _hint(node: str) -> str:
    return ("a kube-proxy-free CNI (Cilium, …) may replace it, or k3s runs it inside its own process: see what runs there "
            f"with kubectl get pods -A -o wide --field-selector spec.nodeName={node}; on the node, `sudo kubectl svcpath "
            "SERVICE --local` reads its tables (or save `iptables-save -c` there and pass it with --rules-file)")


def _cilium_hint(pod: dict[str, Any]) -> str:
    name = apifields.text(pod, "metadata", "name") or "?"
    container = _container(pod, _is_cilium)
    pick = f" -c {apifields.text(container, 'name')}" if container is not None and apifields.text(container, "name") else ""
    return (f"Cilium's agent runs there (pod {NAMESPACE}/{name}): when it replaces kube-proxy, it serves Services from "
            f"eBPF maps, not netfilter rules; see them with: kubectl -n {NAMESPACE} exec {name}{pick} -- cilium-dbg "
            "service list")


def _proxy_pod(obj: dict[str, Any]) -> ProxyPod | None:
    container = _container(obj, runs_kube_proxy)
    return pod_from_json(obj, container) if container is not None else None


def _container(obj: dict[str, Any], test: Any) -> dict[str, Any] | None:
    return next((c for c in apifields.items(obj, "spec", "containers") if isinstance(c, dict) and test(c)), None)


def _is_cilium(container: dict[str, Any]) -> bool:
    return image_name(container) == "cilium"

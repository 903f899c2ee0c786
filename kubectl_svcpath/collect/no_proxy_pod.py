"""No pod of the node carries kube-proxy's labels: look at what kube-system runs there (one more LIST the printed
RBAC grants). A pod whose container runs kube-proxy (a DaemonSet or static pod of other labels) is read as its
pod; otherwise the error says what runs there instead (a Cilium agent), and the command that shows it."""

from __future__ import annotations

import re
from typing import Any

from kubectl_svcpath import apifields
from kubectl_svcpath.collect.kube_proxy_pod import (LABEL_SELECTORS, NAMESPACE, ProxyPod, image_name, pod_from_json,
                                                     runs_kube_proxy)
from kubectl_svcpath.errors import NotFound, SvcpathError
from kubectl_svcpath.kube import reads
from kubectl_svcpath.kube.client import Kube


def on_the_node(kube: Kube, node: str, node_obj: dict[str, Any] | None = None) -> list[ProxyPod]:
    """The kube-system pods on ``node`` whose container runs kube-proxy, each with that container; raises
    NotFound (exit 4) when there is none, saying what serves Services there instead when the node or its pods
    show it (``node_obj``: the Node, when read), its hint what to run."""
    try:
        objs = reads.list_pods(kube, NAMESPACE, None, f"spec.nodeName={node}")
    except SvcpathError:
        objs = None  # (the same read as the label lookups: it failed the same way, or the server is in trouble)
    found = [pod for obj in objs or [] if (pod := _proxy_pod(obj)) is not None]
    if found:
        return found
    labels = " or ".join(LABEL_SELECTORS)
    cilium = next((obj for obj in objs or [] if _container(obj, _is_cilium) is not None), None)
    if cilium is not None:
        raise NotFound(f'no kube-proxy pod on node "{node}" (namespace {NAMESPACE}: no pod labelled {labels}, '
                       "no container running kube-proxy)", hint=_cilium_hint(cilium))
    instead = instead_of_kube_proxy(node, node_obj, objs or [])
    if instead is not None:
        raise NotFound(f'no kube-proxy pod on node "{node}": {instead[0]}', hint=instead[1])
    if objs is None:
        raise NotFound(f'no kube-proxy pod on node "{node}" (namespace {NAMESPACE}, labels {labels})', hint=_hint(node))
    raise NotFound(f'no kube-proxy pod on node "{node}" (namespace {NAMESPACE}: no pod labelled {labels}, '
                   "no container running kube-proxy)", hint=_hint(node))


LOCAL_HINT = ("on the node, `sudo kubectl svcpath SERVICE --local` reads its tables (or save `iptables-save -c` there and "
              "pass it with --rules-file)")


def _hint(node: str) -> str:
    return ("a kube-proxy-free CNI (Cilium, …) may replace it, or k3s runs it inside its own process: see what runs there "
            f"with kubectl get pods -A -o wide --field-selector spec.nodeName={node}; {LOCAL_HINT}")


def instead_of_kube_proxy(node: str, node_obj: dict[str, Any] | None, pods: list[dict[str, Any]]) -> tuple[str, str] | None:
    """What the Node (its labels, annotations, kubelet version) or its kube-system pods show of who serves Services
    there without a kube-proxy pod: (what was found, what to do); None when they show nothing known."""
    router = next((obj for obj in pods if _container(obj, _is_kube_router) is not None), None)
    if router is not None:
        return _kube_router(router)
    labels = apifields.dig(node_obj, "metadata", "labels")
    annotations = apifields.dig(node_obj, "metadata", "annotations")
    labels = labels if isinstance(labels, dict) else {}
    annotations = annotations if isinstance(annotations, dict) else {}
    kubelet = apifields.text(node_obj, "status", "nodeInfo", "kubeletVersion") or ""
    for distro in ("k3s", "rke2"):
        # (its node-args annotation is on every node it starts: the kubelet of a dev build is not '+rke2r1')
        if (labels.get("node.kubernetes.io/instance-type") == distro or f"+{distro}" in kubelet
                or f"{distro}.io/node-args" in annotations):
            return _k3s_or_rke2(node, distro, kubelet, annotations.get(f"{distro}.io/node-args"))
    ovn = sorted(k for k in annotations if isinstance(k, str) and k.startswith("k8s.ovn.org/"))
    if ovn:
        return (f"OVN-Kubernetes serves Services on it (node annotation {ovn[0]}): it programs OVN load balancers, not "
                "kube-proxy's rules, and kubectl-svcpath reads no OVN database",
                "list them with `ovn-nbctl lb-list` in the node's ovnkube-node pod (namespace openshift-ovn-kubernetes on "
                "OpenShift, ovn-kubernetes upstream)")
    if "node.openshift.io/os_id" in labels:
        return ("an OpenShift node without OVN-Kubernetes: with OpenShift SDN, kube-proxy runs inside the sdn pod "
                "(namespace openshift-sdn), not in kube-system",
                f"its iptables rules are kube-proxy's: save them with `oc debug node/{node} -- chroot /host iptables-save -c "
                "> rules.txt` and pass --rules-file rules.txt")
    return None


def _k3s_or_rke2(node: str, distro: str, kubelet: str, node_args: Any) -> tuple[str, str]:
    """k3s runs kube-proxy inside its own process; RKE2 as the static pod kube-proxy-NODE. Either may be started
    with --disable-kube-proxy (the node's DISTRO.io/node-args annotation lists its flags)."""
    import json

    try:
        args = json.loads(node_args) if isinstance(node_args, str) else []
    except ValueError:
        args = []
    name = "k3s" if distro == "k3s" else "RKE2"
    version = f" (kubelet {kubelet})" if kubelet else ""
    if isinstance(args, list) and _disables_kube_proxy([a for a in args if isinstance(a, str)]):
        return (f"{'an' if distro == 'rke2' else 'a'} {name} node{version} started with --disable-kube-proxy (its {distro}.io/node-args): another "
                "dataplane serves Services there",
                f"see what runs there with kubectl get pods -A -o wide --field-selector spec.nodeName={node}")
    if distro == "k3s":
        return f"a k3s node{version}: k3s runs kube-proxy inside its own process, not as a pod", LOCAL_HINT
    return (f"an RKE2 node{version}: RKE2 runs kube-proxy as the static pod {NAMESPACE}/kube-proxy-{node}, which the "
            "API does not list (kube-proxy disabled, or its mirror pod not yet created)", LOCAL_HINT)


def _disables_kube_proxy(args: list[str]) -> bool:
    """The node-args list a flag from the command line alone ("--disable-kube-proxy") and one from the config file
    with its value after it ("--disable-kube-proxy", "true" or "false", as "--selinux", "false")."""
    for i, arg in enumerate(args):
        if arg == "--disable-kube-proxy":
            value = args[i + 1] if i + 1 < len(args) else ""
            return value.lower() != "false"
        if arg.startswith("--disable-kube-proxy="):
            return arg.partition("=")[2].lower() != "false"
    return False


def _kube_router(pod: dict[str, Any]) -> tuple[str, str] | None:
    """kube-router with its service proxy on (--run-service-proxy, on unless set false) serves Services with IPVS."""
    container = _container(pod, _is_kube_router) or {}
    args = apifields.words(container, "command") + apifields.words(container, "args")
    if any(a in ("--run-service-proxy=false", "--run-service-proxy=False") for a in args):
        return None
    name = apifields.text(pod, "metadata", "name") or "?"
    pick = f" -c {apifields.text(container, 'name')}" if apifields.text(container, "name") else ""
    return (f"kube-router's service proxy runs there (pod {NAMESPACE}/{name}): it serves Services with IPVS, not "
            "kube-proxy's rules",
            f"save its IPVS table with: kubectl -n {NAMESPACE} exec {name}{pick} -- ipvsadm -Ln > ipvs.txt, and pass "
            "--rules-file ipvs.txt")


def _is_kube_router(container: dict[str, Any]) -> bool:
    return image_name(container) == "kube-router" or apifields.text(container, "name") == "kube-router"


def _cilium_hint(pod: dict[str, Any]) -> str:
    name = apifields.text(pod, "metadata", "name") or "?"
    container = _container(pod, _is_cilium)
    pick = f" -c {apifields.text(container, 'name')}" if container is not None and apifields.text(container, "name") else ""
    version = _cilium_version(apifields.text(container, "image") or "" if container is not None else "")
    # the agent's CLI is cilium-dbg from Cilium 1.15, cilium before (GKE Dataplane V2's anetd ran 1.9 to 1.12 images)
    cli = ("cilium" if version < (1, 15) else "cilium-dbg") if version else "cilium-dbg (cilium before Cilium 1.15)"
    if name.startswith("anetd-"):  # GKE Dataplane V2: its Cilium agent DaemonSet, kube-proxy not deployed
        return (f"GKE Dataplane V2 runs there (its Cilium agent, pod {NAMESPACE}/{name}): it serves Services from eBPF "
                f"maps, not netfilter rules; see them with: kubectl -n {NAMESPACE} exec {name}{pick} -- {cli} service list")
    return (f"Cilium's agent runs there (pod {NAMESPACE}/{name}): when it replaces kube-proxy, it serves Services from "
            f"eBPF maps, not netfilter rules; see them with: kubectl -n {NAMESPACE} exec {name}{pick} -- {cli} service "
            "list")


def _cilium_version(image: str) -> tuple[int, int] | None:
    """ "quay.io/cilium/cilium:v1.16.1@sha256:…" -> (1, 16); "gke.gcr.io/cilium/cilium:v1.11.1-gke3.3" -> (1, 11);
    None when the image names no version (a digest alone)."""
    tag = image.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]
    m = re.match(r"v?(\d+)\.(\d+)", tag)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _proxy_pod(obj: dict[str, Any]) -> ProxyPod | None:
    container = _container(obj, runs_kube_proxy)
    return pod_from_json(obj, container) if container is not None else None


def _container(obj: dict[str, Any], test: Any) -> dict[str, Any] | None:
    return next((c for c in apifields.items(obj, "spec", "containers") if isinstance(c, dict) and test(c)), None)


def _is_cilium(container: dict[str, Any]) -> bool:
    return image_name(container) == "cilium"

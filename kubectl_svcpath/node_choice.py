"""Which nodes a multi-node read covers: --nodes (a label selector or names) and --sample N across zones.

Pure: the edge (live.py) lists the Nodes and hands their API JSON here.
"""

from __future__ import annotations

from typing import Any

from kubectl_svcpath import apifields
from kubectl_svcpath.errors import UsageError

ZONE_LABEL = "topology.kubernetes.io/zone"
OS_LABEL = "kubernetes.io/os"
LINUX_HINT = "read a Linux node instead: --node NAME (list them: kubectl get nodes -l kubernetes.io/os=linux)"
_SELECTOR_CHARS = set("=!()/")  # node names (DNS subdomains) hold none of these; a label selector does


def parse_nodes_flag(value: str) -> tuple[str | None, list[str] | None]:
    """``--nodes``: (label selector, None) or (None, node names). ``a,b`` are names; ``role=worker``,
    ``zone in (a,b)``, ``!spot`` or ``node-role.kubernetes.io/worker`` are selectors."""
    text = value.strip()
    if not text:
        raise UsageError("--nodes is empty: give node names (a,b,c) or a label selector (role=worker)")
    if _SELECTOR_CHARS & set(text) or " in " in text or " notin " in text:
        return text, None
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise UsageError(f'--nodes "{value}" has an empty name: write names as a,b,c')
    return None, list(dict.fromkeys(names))


def name_of(node: dict[str, Any]) -> str:
    return apifields.text(node, "metadata", "name") or ""


def zone_of(node: dict[str, Any]) -> str:
    return apifields.text(node, "metadata", "labels", ZONE_LABEL) or ""


def sample_across_zones(nodes: list[dict[str, Any]], n: int) -> list[str]:
    """``n`` node names taken in turn from each zone (zones and names in order; no zone label = one
    more zone), so that every zone is read before any zone is read twice. Deterministic: the same
    cluster gives the same sample, so two runs compare."""
    zones: dict[str, list[str]] = {}
    for node in sorted(nodes, key=name_of):
        zones.setdefault(zone_of(node), []).append(name_of(node))
    queues = [zones[z] for z in sorted(zones)]
    chosen: list[str] = []
    depth = 0
    while len(chosen) < n and any(depth < len(q) for q in queues):
        chosen.extend(q[depth] for q in queues if depth < len(q) and len(chosen) < n)
        depth += 1
    return sorted(chosen)


def os_of(node: dict[str, Any]) -> tuple[str | None, str]:
    """The node's operating system (lower case; None: not said) and where it was read: the label
    kubernetes.io/os (the kubelet sets it), else status.nodeInfo.operatingSystem."""
    label = apifields.text(node, "metadata", "labels", OS_LABEL)
    if label:
        return label.lower(), f"label {OS_LABEL}={label}"
    info = apifields.text(node, "status", "nodeInfo", "operatingSystem")
    if info:
        return info.lower(), f"nodeInfo.operatingSystem {info}"
    return None, ""


def not_netfilter(node: dict[str, Any]) -> str | None:
    """Why kube-proxy's rules on this node are no netfilter or IPVS rules to read (None: they may be).

    On Windows kube-proxy runs in kernelspace mode (winkernel) and programs the Host Networking
    Service's load balancers: there is no iptables, nft or ipvsadm listing, in a pod or on the host."""
    system, seen = os_of(node)
    if system is None or system == "linux":
        return None
    if system == "windows":
        return (f"a Windows node ({seen}): kube-proxy on Windows programs HNS load balancers (kernelspace mode), "
                "not netfilter rules")
    return f"not a Linux node ({seen}): kube-proxy's netfilter and IPVS rules are Linux's"


def readable(nodes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(the nodes whose rules can be read, [(name, why not) of the others]), each in the order given."""
    keep, skipped = [], []
    for node in nodes:
        why = not_netfilter(node)
        if why is None:
            keep.append(node)
        else:
            skipped.append((name_of(node), why))
    return keep, skipped

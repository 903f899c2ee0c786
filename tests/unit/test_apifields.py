"""Pods and Nodes are read field by field without a shape check (the plugin needs a few of their fields):
every field of a real kube-proxy Pod and Node set in turn to values of every other kind must still give a
pod, a node name, zone, OS and addresses of the right kinds - the field read as absent - never a
traceback. (A Pod whose container args were a string made 'internal error (TypeError: can only
concatenate list (not "str") to list)' of a live run.)"""

from __future__ import annotations

from typing import Any

from kubectl_svcpath.collect.kube_proxy_pod import pod_from_json
from kubectl_svcpath.expected import NodeIdentity
from kubectl_svcpath.node_choice import name_of, os_of, sample_across_zones, zone_of
from tests.unit.test_apishape import _ODD, _places, _set

POD = {"apiVersion": "v1", "kind": "Pod",
       "metadata": {"name": "kube-proxy-x1", "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
       "spec": {"nodeName": "w1", "os": {"name": "linux"}, "nodeSelector": {"kubernetes.io/os": "linux"},
                "containers": [{"name": "kube-proxy", "command": ["/usr/local/bin/kube-proxy"], "args": ["--proxy-mode=ipvs"]}]},
       "status": {"phase": "Running", "containerStatuses": [
           {"name": "kube-proxy", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}
NODE = {"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "w1", "labels": {"topology.kubernetes.io/zone": "z1", "kubernetes.io/os": "linux"}},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.7"}, {"type": "Hostname", "address": "w1"}],
                   "nodeInfo": {"operatingSystem": "linux"}}}


def _variants(obj: dict[str, Any]) -> list[Any]:
    return [_set(obj, path, odd) for path in _places(obj) for odd in _ODD]


def test_a_pod_of_odd_fields_is_read_with_them_absent() -> None:
    assert pod_from_json(POD).command == ["/usr/local/bin/kube-proxy", "--proxy-mode=ipvs"]
    assert pod_from_json(POD).not_running == "CrashLoopBackOff, 3 restarts"
    for v in _variants(POD):
        pod = pod_from_json(v)
        assert isinstance(pod.name, str) and isinstance(pod.node, str) and isinstance(pod.phase, str), v
        assert all(isinstance(a, str) for a in pod.command) and (pod.os is None or isinstance(pod.os, str)), v
        assert pod.not_running is None or isinstance(pod.not_running, str), v
    odd = _set(POD, ("spec", "containers", 0, "args"), "--proxy-mode=ipvs")
    assert pod_from_json(odd).command == ["/usr/local/bin/kube-proxy"]


def test_a_node_of_odd_fields_is_read_with_them_absent() -> None:
    assert (name_of(NODE), zone_of(NODE), os_of(NODE)[0]) == ("w1", "z1", "linux")
    assert NodeIdentity.from_node_object(NODE, "node").addresses == ("10.0.0.7",)
    variants = _variants(NODE)
    for v in variants:
        assert isinstance(name_of(v), str) and isinstance(zone_of(v), str), v
        assert os_of(v)[0] in (None, "linux") or isinstance(os_of(v)[0], str), v
        ident = NodeIdentity.from_node_object(v, "node")
        assert all(isinstance(a, str) for a in ident.addresses) and (ident.name is None or isinstance(ident.name, str)), v
    assert sample_across_zones([*variants[:50], "not a node", None], 5)  # (a list item that is no object)

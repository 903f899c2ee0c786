"""The kube-proxy pods real clusters run, as the node's read meets them: which container it execs into, and
what it says of a pod it cannot exec into. No root needed: the fake API server answers before a command runs."""

from __future__ import annotations

import pytest

from kubectl_svcpath.collect.kube_proxy_pod import best_pod, pod_from_json
from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.live.test_faults import hint_of, no_lab_hello, one_error, only_reads

pytestmark = pytest.mark.api


def _only_pod(api: FakeApiServer) -> dict:
    (pod,) = [obj for (kind, _, _), obj in api.cluster.objects.items() if kind == "Pod"]
    return pod


def _status(name: str, state: dict, restarts: int = 0) -> dict:
    return {"name": name, "ready": False, "restartCount": restarts, "state": state}


def test_the_container_that_runs_kube_proxy_is_execd_not_a_sidecar_before_it(api: FakeApiServer, tmp_path):
    """A kube-proxy pod (k8s-app=kube-proxy) whose first container is a sidecar and whose kube-proxy container has
    another name: the execs went to the sidecar ('container=istio-proxy'), and its flags were read as kube-proxy's."""
    no_lab_hello(api)
    pod = _only_pod(api)
    pod["spec"]["containers"] = [
        {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.0", "args": ["proxy", "sidecar"]},
        {"name": "proxy", "image": "registry.k8s.io/kube-proxy:v1.32.0", "command": ["/usr/local/bin/kube-proxy", "--proxy-mode=ipvs"]}]
    assert pod_from_json(pod).command == ["/usr/local/bin/kube-proxy", "--proxy-mode=ipvs"]
    api.cluster.faults.missing_binaries = {"iptables-save"}  # stop at the first exec
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED, err
    assert one_error(err).startswith(f"error: cannot run `iptables-save -c` in pod kube-system/{pod['metadata']['name']}")
    execs = [r for r in api.cluster.requests if r.argv is not None]
    assert execs and {r.query["container"][0] for r in execs} == {"proxy"}
    only_reads(api)


@pytest.mark.parametrize("phase,state,restarts,error,hint", [
    ("Running", {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container"}}, 14,
     "its container kube-proxy does not run (CrashLoopBackOff, 14 restarts): cannot exec into it",
     "hint: why it stopped: kubectl logs -n kube-system {pod} -c kube-proxy --previous; the node's tables hold what it "
     "last wrote: `sudo kubectl svcpath SERVICE --local` there reads them"),
    ("Running", {"terminated": {"reason": "Error", "exitCode": 1}}, 1,
     "its container kube-proxy does not run (terminated: Error, exit 1, 1 restart): cannot exec into it", None),
    ("Pending", {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}, 0,
     "is Pending (container kube-proxy: ImagePullBackOff): cannot exec into it",
     "hint: see why: kubectl describe pod -n kube-system {pod}"),
])
def test_a_kube_proxy_container_that_does_not_run_is_said_before_any_exec(api: FakeApiServer, tmp_path, phase, state,
                                                                          restarts, error, hint):
    """A crash-looping kube-proxy (phase Running, its container waiting) was exec'd into: the kubelet's refusal
    came back instead of why. Now one line with the container's state, the exit code of a failed read (7), and
    where to look; no exec is sent."""
    no_lab_hello(api)
    pod = _only_pod(api)
    pod["status"] = {"phase": phase, "containerStatuses": [_status("kube-proxy", state, restarts)]}
    name = pod["metadata"]["name"]
    code, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED == 7
    assert one_error(err) == f"error: kube-proxy pod kube-system/{name} on node cp01{': ' if phase == 'Running' else ' '}{error}"
    if hint is not None:
        assert hint_of(err) == hint.format(pod=name)
    assert "NOT READ on node cp01" in out
    assert api.cluster.execs() == []
    only_reads(api)


def test_a_running_pod_is_preferred_to_a_crash_looping_one_on_the_same_node():
    """During a rollout two kube-proxy pods can be on a node: the one whose container runs is read."""
    def pod(name: str, state: dict) -> dict:
        return {"metadata": {"name": name, "namespace": "kube-system"},
                "spec": {"nodeName": "n1", "containers": [{"name": "kube-proxy"}]},
                "status": {"phase": "Running", "containerStatuses": [_status("kube-proxy", state)]}}

    pods = [pod("kube-proxy-a", {"waiting": {"reason": "CrashLoopBackOff"}}), pod("kube-proxy-b", {"running": {}})]
    assert best_pod([pod_from_json(p) for p in pods], "n1").name == "kube-proxy-b"

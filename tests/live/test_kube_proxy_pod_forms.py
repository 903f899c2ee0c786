"""The kube-proxy pods real clusters run, as the node's read meets them: which container it execs into, and
what it says of a pod it cannot exec into. No root needed: the fake API server answers before a command runs."""

from __future__ import annotations

import pytest

from kubectl_svcpath.collect.kube_proxy_pod import best_pod, pod_from_json
from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer, FakeCluster
from tests.live.conftest import Scenario, hello_scenario
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


# --- the configuration the pod's kube-proxy reads ------------------------------------------------------------

def _eks_pod(name: str = "kube-proxy-7xk2p") -> dict:
    """EKS's kube-proxy DaemonSet pod: its configuration is ConfigMap kube-proxy-config's key config (ConfigMap
    kube-proxy holds only its kubeconfig)."""
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"k8s-app": "kube-proxy"}},
            "spec": {"nodeName": "cp01", "containers": [{
                "name": "kube-proxy", "image": "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.31.2-eksbuild.3",
                "command": ["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config", "--hostname-override=$(NODE_NAME)"],
                "volumeMounts": [{"name": "varlog", "mountPath": "/var/log"},
                                 {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                                 {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
                                 {"name": "kubeconfig", "mountPath": "/var/lib/kube-proxy/"},
                                 {"name": "config", "mountPath": "/var/lib/kube-proxy-config/"}]}],
                "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}},
                            {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                            {"name": "lib-modules", "hostPath": {"path": "/lib/modules"}},
                            {"name": "kubeconfig", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                            {"name": "config", "configMap": {"name": "kube-proxy-config", "defaultMode": 420}}]},
            "status": {"phase": "Running"}}


def _configmap(name: str, data: dict[str, str]) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "kube-system"}, "data": data}


def _eks(api: FakeApiServer, mode: str) -> None:
    no_lab_hello(api, kube_proxy=False)
    _eks_objects(api.cluster, mode)


def _eks_objects(cluster: FakeCluster, mode: str) -> None:
    cluster.add(_eks_pod())
    cluster.add(_configmap("kube-proxy", {"kubeconfig": "kind: Config\napiVersion: v1\n"}))
    cluster.add(_configmap("kube-proxy-config", {"config": "apiVersion: kubeproxy.config.k8s.io/v1alpha1\n"
                                                               "kind: KubeProxyConfiguration\nbindAddress: 0.0.0.0\n"
                                                               f'mode: "{mode}"\nnodePortAddresses: null\n'}))


def test_the_configmap_the_pod_mounts_at_its_config_path_is_read(api: FakeApiServer, tmp_path):
    """EKS: ConfigMap kube-proxy holds a kubeconfig; the configuration is kube-proxy-config (key config). Only
    kube-proxy's was read: the mode was "not configured explicitly" (a note saying what was not seen) and the
    listings were iptables mode's whatever kube-proxy-config said. Now kube-proxy-config's mode picks the
    listings and the hint of a failed one names it."""
    _eks(api, "nftables")
    api.cluster.faults.exec_exit = {"nft": (1, "Error: No such file or directory\n")}
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED, err
    assert one_error(err).startswith("error: `nft -j list table ip kube-proxy` failed in pod kube-system/kube-proxy-7xk2p")
    assert hint_of(err) == ("hint: kube-proxy's nftables table is missing: is kube-proxy on this node in nftables mode, as "
                            "ConfigMap kube-system/kube-proxy-config key config says? Try --proxy-mode iptables")
    assert "/api/v1/namespaces/kube-system/configmaps/kube-proxy-config" in {r.path for r in api.cluster.requests}
    only_reads(api)


@pytest.mark.parametrize("denied", [False, True])
def test_eks_the_report_says_what_kube_proxy_config_says(scenario: Scenario, denied: bool):
    """On EKS the report said 'proxy mode not configured explicitly: detected from the rules' (kube-proxy-config says
    mode "iptables") and nothing of nodePortAddresses (it says null: every local address)."""
    hello_scenario(scenario)
    cluster = scenario.cluster
    for key in [k for k in cluster.objects if k[0] in ("Pod", "ConfigMap")]:
        cluster.remove(*key)
    _eks_objects(cluster, "iptables")
    if denied:
        cluster.faults.forbidden_paths = [r"/configmaps/kube-proxy-config$"]
    code, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == ExitCode.OK, err
    assert "Rules:    iptables (nf_tables) mode, node cp01, read in pod kube-system/kube-proxy-7xk2p" in out
    assert "not configured explicitly" not in out
    notes = [line for line in out.splitlines() if line.startswith("Note:")]
    if denied:
        assert notes[0].startswith("Note:     could not read ConfigMap kube-system/kube-proxy-config (forbidden")
        assert notes[0].endswith("(check: kubectl auth can-i get configmaps/kube-proxy-config -n kube-system)")
        assert not any("nodePortAddresses" in n for n in notes)  # (not known: not said)
    else:
        assert notes == ["Note:     kube-proxy's nodePortAddresses: node ports accept traffic on every local address "
                         "(none set for this family)"]
    scenario.assert_read_only()


@pytest.mark.parametrize("pod_spec,expected", [
    # kubeadm, kind: ConfigMap kube-proxy mounted at /var/lib/kube-proxy
    ({"command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"],
      "mounts": [{"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"}],
      "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}]},
     ("/var/lib/kube-proxy/config.conf", "kube-proxy", "config.conf", None)),
    # EKS
    ({"command": ["kube-proxy", "--config", "/var/lib/kube-proxy-config/config"],
      "mounts": [{"name": "kubeconfig", "mountPath": "/var/lib/kube-proxy/"}, {"name": "config", "mountPath": "/var/lib/kube-proxy-config/"}],
      "volumes": [{"name": "kubeconfig", "configMap": {"name": "kube-proxy"}}, {"name": "config", "configMap": {"name": "kube-proxy-config"}}]},
     ("/var/lib/kube-proxy-config/config", "kube-proxy-config", "config", None)),
    # one key mounted as the file (subPath), and a key renamed by items
    ({"command": ["kube-proxy", "--config=/etc/kp.yaml"], "mounts": [{"name": "c", "mountPath": "/etc/kp.yaml", "subPath": "kp.yaml"}],
      "volumes": [{"name": "c", "configMap": {"name": "proxy-cfg"}}]}, ("/etc/kp.yaml", "proxy-cfg", "kp.yaml", None)),
    ({"command": ["kube-proxy", "--config=/cfg/config.yaml"], "mounts": [{"name": "c", "mountPath": "/cfg"}],
      "volumes": [{"name": "c", "configMap": {"name": "kp", "items": [{"key": "kube-proxy.yaml", "path": "config.yaml"}]}}]},
     ("/cfg/config.yaml", "kp", "kube-proxy.yaml", None)),
    # a file of the node; no volume holds it (not said in the pod); no --config
    ({"command": ["kube-proxy", "--config=/etc/kubernetes/kube-proxy/config.yaml"], "mounts": [{"name": "etc", "mountPath": "/etc/kubernetes"}],
      "volumes": [{"name": "etc", "hostPath": {"path": "/etc/kubernetes"}}]},
     ("/etc/kubernetes/kube-proxy/config.yaml", None, None, "hostPath /etc/kubernetes")),
    ({"command": ["kube-proxy", "--config=/x/config.yaml"], "mounts": [], "volumes": []}, ("/x/config.yaml", None, None, None)),
    ({"command": ["kube-proxy", "--proxy-mode=ipvs"], "mounts": [], "volumes": []}, None),
])
def test_where_the_config_file_comes_from(pod_spec, expected):
    obj = {"metadata": {"name": "kp"}, "spec": {"containers": [{"name": "kube-proxy", "command": pod_spec["command"],
                                                                "volumeMounts": pod_spec["mounts"]}],
                                                "volumes": pod_spec["volumes"]}}
    got = pod_from_json(obj).config
    assert (got if got is None else (got.path, got.configmap, got.key, got.elsewhere)) == expected


def test_the_mode_is_said_by_the_configuration_the_pod_reads():
    from kubectl_svcpath.collect.kube_proxy_pod import Config, decide_mode, pods_config

    def reads(name: str, key: str) -> Config:
        return {("kube-proxy-config", "config"): Config("ipvs", "ConfigMap kube-system/kube-proxy-config key config")}.get(
            (name, key), Config(None))

    kubeadms = Config(None)  # ConfigMap kube-proxy without config.conf (EKS: a kubeconfig)
    eks = pod_from_json(_eks_pod())
    got = pods_config(eks, kubeadms, reads)
    info = decide_mode(got.mode, eks, got.notes, None, got.source)
    assert (info.mode, info.source, info.notes) == ("ipvs", "ConfigMap kube-system/kube-proxy-config key config", [])
    # a hostPath configuration: no ConfigMap is said to be it, nothing is said of how it was configured
    node_file = pod_from_json({"metadata": {"name": "kp", "namespace": "kube-system"}, "spec": {
        "containers": [{"name": "kube-proxy", "command": ["kube-proxy", "--config=/etc/kp/config.yaml"],
                        "volumeMounts": [{"name": "etc", "mountPath": "/etc/kp"}]}],
        "volumes": [{"name": "etc", "hostPath": {"path": "/etc/kp"}}]}})
    got = pods_config(node_file, Config("nftables", "ConfigMap kube-system/kube-proxy key config.conf"), reads)
    info = decide_mode(got.mode, node_file, got.notes, None, got.source)
    assert (info.mode, info.notes) == (None, ["kube-proxy reads --config=/etc/kp/config.yaml from hostPath /etc/kp, a file "
                                              "of the node the API does not hold: the proxy mode is detected from the rules"])
    # a ConfigMap the pod names that the API does not have
    gone = pods_config(pod_from_json({**_eks_pod(), "spec": {**_eks_pod()["spec"], "volumes": [
        {"name": "config", "configMap": {"name": "kp-old"}}]}}), kubeadms, reads)
    assert gone.notes == ["kube-proxy reads --config=/var/lib/kube-proxy-config/config, key config of ConfigMap "
                          "kube-system/kp-old, which the API does not have: the proxy mode is detected from the rules"]


def test_gkes_shell_wrapped_command_is_read_for_its_flags():
    """GKE's static kube-proxy pod runs `/bin/sh -c "exec kube-proxy … --proxy-mode=ipvs 1>>/var/log/kube-proxy.log 2>&1"`
    (cluster/gce/manifests/kube-proxy.manifest): its flags were one word, and its --proxy-mode unseen."""
    from kubectl_svcpath.collect.kube_proxy_pod import Config, decide_mode

    obj = {"metadata": {"name": "kube-proxy-gke-c1-default-pool-5f2a-x1", "namespace": "kube-system",
                        "labels": {"component": "kube-proxy", "tier": "node"}},
           "spec": {"containers": [{"name": "kube-proxy", "image": "gke.gcr.io/kube-proxy-amd64:v1.30.5-gke.1014001",
                                    "command": ["/bin/sh", "-c", "exec kube-proxy --master=https://10.0.0.2 "
                                                "--kubeconfig=/var/lib/kube-proxy/kubeconfig --cluster-cidr=10.4.0.0/14 "
                                                "--oom-score-adj=-998 --v=2 --proxy-mode=ipvs 1>>/var/log/kube-proxy.log 2>&1"]}]}}
    pod = pod_from_json(obj)
    info = decide_mode(None, pod, Config(None).notes)
    assert (info.mode, info.source) == ("ipvs", "pod kube-system/kube-proxy-gke-c1-default-pool-5f2a-x1 flag --proxy-mode")


def test_a_proxy_mode_flag_beside_config_is_not_taken_for_kube_proxys_mode():
    """kube-proxy ignores --proxy-mode when --config is given (cmd/kube-proxy/app/options.go: 'This parameter is
    ignored if a config file is specified by --config'): a configuration without a mode and the flag ipvs ran
    IPVS mode's listings on a node that runs iptables mode."""
    from kubectl_svcpath.collect.kube_proxy_pod import Config, decide_mode, pods_config

    obj = _eks_pod()
    obj["spec"]["containers"][0]["command"].append("--proxy-mode=ipvs")
    pod = pod_from_json(obj)
    got = pods_config(pod, Config(None), lambda name, key: Config(None, f"ConfigMap kube-system/{name} key {key}"))
    info = decide_mode(got.mode, pod, got.notes, None, got.source)
    assert (info.mode, info.notes) == (None, [
        "pod kube-system/kube-proxy-7xk2p sets --proxy-mode ipvs beside --config, which kube-proxy then ignores, and "
        "ConfigMap kube-system/kube-proxy-config key config sets no mode: detected from the rules"])

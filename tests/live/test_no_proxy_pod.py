"""No pod on the node carries kube-proxy's labels: kube-system's pods there are looked at. A container running
kube-proxy (a DaemonSet of other labels) is read; a Cilium agent is named, with the command that shows the
Services it serves instead. No root needed."""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.live.test_faults import hint_of, no_lab_hello, one_error, only_reads

pytestmark = pytest.mark.api


def _pod(name: str, containers: list[dict], labels: dict[str, str], node: str = "cp01") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
            "spec": {"nodeName": node, "containers": containers}, "status": {"phase": "Running"}}


@pytest.mark.parametrize("container", [
    {"name": "proxy", "image": "registry.k8s.io/kube-proxy:v1.32.0@sha256:0123"},  # another container name
    {"name": "kube-proxy", "image": "example.com/mirror/proxy:v1"},  # a mirror under another image name
    {"name": "main", "image": "rancher/hardened-kubernetes:v1.31.1", "command": ["kube-proxy", "--v=2"]},
])
def test_a_kube_proxy_daemonset_of_other_labels_is_read(api: FakeApiServer, tmp_path, container):
    """'no kube-proxy pod on node "cp01"' (exit 4) of a node whose kube-proxy pod is labelled app=kube-proxy."""
    no_lab_hello(api, kube_proxy=False)
    api.cluster.add(_pod("kube-proxy-cp01", [{"name": "sidecar", "image": "busybox"}, container], {"app": "kube-proxy"}))
    api.cluster.faults.missing_binaries = {"iptables-save"}  # stop at the first exec: which pod and container it went to
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED, err
    assert "cannot run `iptables-save -c` in pod kube-system/kube-proxy-cp01" in one_error(err)
    (ex,) = [r for r in api.cluster.requests if r.argv is not None]
    assert ex.query["container"] == [container["name"]]
    only_reads(api)


def test_a_cilium_agent_on_the_node_is_named_with_the_command_that_lists_its_services(api: FakeApiServer, tmp_path):
    no_lab_hello(api, kube_proxy=False)
    api.cluster.add(_pod("cilium-x7k2p", [{"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.16.1@sha256:ab"}],
                         {"k8s-app": "cilium"}))
    api.cluster.add(_pod("coredns-1", [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1"}],
                         {"k8s-app": "kube-dns"}))
    code, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err).startswith('error: no kube-proxy pod on node "cp01" (namespace kube-system: no pod labelled')
    assert hint_of(err) == ("hint: Cilium's agent runs there (pod kube-system/cilium-x7k2p): when it replaces kube-proxy, it "
                            "serves Services from eBPF maps, not netfilter rules; see them with: kubectl -n kube-system "
                            "exec cilium-x7k2p -c cilium-agent -- cilium-dbg service list")
    assert "Rules:    NOT READ on node cp01: no kube-proxy pod" in out  # the API's view is still shown
    assert api.cluster.execs() == []
    only_reads(api)


def test_the_audit_names_the_node_once(api: FakeApiServer, tmp_path):
    """--all said 'error: node cp01: no kube-proxy pod on node "cp01" …'."""
    no_lab_hello(api, kube_proxy=False)
    code, _, err = svcpath("--all", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err).startswith('error: no kube-proxy pod on node "cp01" (namespace kube-system: ')
    api.cluster.add_kube_proxy_pod("cp01", "kube-proxy-cp01")
    api.cluster.faults.exec_forbidden = True
    code, _, err = svcpath("--all", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.FORBIDDEN
    assert one_error(err).startswith('error: node cp01: forbidden: cannot exec into pod "kube-proxy-cp01"')

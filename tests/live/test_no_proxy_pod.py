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


def _node_is(api: FakeApiServer, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
             kubelet: str | None = None) -> None:
    node = api.cluster.objects[("Node", "", "cp01")]
    node["metadata"]["labels"].update(labels or {})
    node["metadata"]["annotations"] = annotations or {}
    if kubelet:
        node["status"]["nodeInfo"] = {"kubeletVersion": kubelet, "operatingSystem": "linux"}


_LOCAL = ("hint: on the node, `sudo kubectl svcpath SERVICE --local` reads its tables (or save `iptables-save -c` there "
          "and pass it with --rules-file)")


@pytest.mark.parametrize("node,pods,error,hint", [
    # k3s: kube-proxy inside the k3s process (its kube-system pods: coredns, traefik, svclb, local-path)
    ({"labels": {"node.kubernetes.io/instance-type": "k3s"}, "kubelet": "v1.30.6+k3s1",
      "annotations": {"k3s.io/node-args": '["server","--write-kubeconfig-mode","0644"]'}},
     [("svclb-traefik-5d4c2", {"name": "lb-tcp-80", "image": "rancher/klipper-lb:v0.4.9"})],
     "a k3s node (kubelet v1.30.6+k3s1): k3s runs kube-proxy inside its own process, not as a pod", _LOCAL),
    ({"kubelet": "v1.31.1+k3s1", "annotations": {"k3s.io/node-args": '["server","--disable-kube-proxy","--flannel-backend","none"]'}},
     [], "a k3s node (kubelet v1.31.1+k3s1) started with --disable-kube-proxy (its k3s.io/node-args): another dataplane "
         "serves Services there",
     "hint: see what runs there with kubectl get pods -A -o wide --field-selector spec.nodeName=cp01"),
    ({"labels": {"node.kubernetes.io/instance-type": "rke2"}, "kubelet": "v1.30.5+rke2r1"}, [],
     "an RKE2 node (kubelet v1.30.5+rke2r1): RKE2 runs kube-proxy as the static pod kube-system/kube-proxy-cp01, which the "
     "API does not list (kube-proxy disabled, or its mirror pod not yet created)", _LOCAL),
    # OpenShift: OVN-Kubernetes (no kube-proxy at all), OpenShift SDN (kube-proxy inside the sdn pod)
    ({"labels": {"node.openshift.io/os_id": "rhcos"}, "annotations": {"k8s.ovn.org/node-subnets": '{"default":["10.128.0.0/23"]}',
                                                                      "k8s.ovn.org/node-chassis-id": "4f1a"}}, [],
     "OVN-Kubernetes serves Services on it (node annotation k8s.ovn.org/node-chassis-id): it programs OVN load balancers, "
     "not kube-proxy's rules, and kubectl-svcpath reads no OVN database",
     "hint: list them with `ovn-nbctl lb-list` in the node's ovnkube-node pod (namespace openshift-ovn-kubernetes on "
     "OpenShift, ovn-kubernetes upstream)"),
    ({"labels": {"node.openshift.io/os_id": "rhcos"}}, [],
     "an OpenShift node without OVN-Kubernetes: with OpenShift SDN, kube-proxy runs inside the sdn pod (namespace "
     "openshift-sdn), not in kube-system",
     "hint: its iptables rules are kube-proxy's: save them with `oc debug node/cp01 -- chroot /host iptables-save -c > "
     "rules.txt` and pass --rules-file rules.txt"),
    # kube-router's service proxy (on unless --run-service-proxy=false) serves Services with IPVS
    ({}, [("kube-router-x8x8p", {"name": "kube-router", "image": "docker.io/cloudnativelabs/kube-router:v2.2.0",
                                 "args": ["--run-router=true", "--run-firewall=true", "--run-service-proxy=true"]})],
     "kube-router's service proxy runs there (pod kube-system/kube-router-x8x8p): it serves Services with IPVS, not "
     "kube-proxy's rules",
     "hint: save its IPVS table with: kubectl -n kube-system exec kube-router-x8x8p -c kube-router -- ipvsadm -Ln > "
     "ipvs.txt, and pass --rules-file ipvs.txt"),
])
def test_what_serves_services_on_a_node_without_kube_proxy_is_said(api: FakeApiServer, tmp_path, node, pods, error, hint):
    """Each of these said 'no kube-proxy pod on node "cp01" (namespace kube-system: no pod labelled k8s-app=kube-proxy
    or component=kube-proxy, no container running kube-proxy)' and the same guess at Cilium or k3s; now what the Node
    (labels, annotations, kubelet version) or kube-system's pods there show, and what to do on that cluster."""
    no_lab_hello(api, kube_proxy=False)
    _node_is(api, **node)
    for name, container in pods:
        api.cluster.add(_pod(name, [container], {"app": name.rsplit("-", 1)[0]}))
    code, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND == 4
    assert one_error(err) == f'error: no kube-proxy pod on node "cp01": {error}'
    assert hint_of(err) == hint
    assert f'Rules:    NOT READ on node cp01: no kube-proxy pod on node "cp01": {error}' in out
    assert api.cluster.execs() == []
    only_reads(api)


# Real values from public material: GKE Dataplane V2's pod name (a `kubectl get pods -A` listing in
# GoogleCloudPlatform/pubsec-declarative-toolkit#457: "kube-system  anetd-r7gr2  1/1  Running"), its container and
# image (a tutorial's `kubectl -n kube-system get ds -l k8s-app=cilium -o wide`: "anetd … cilium-agent
# gke.gcr.io/cilium/cilium:v1.11.1-gke3.3"; a post runs `kubectl exec -n kube-system -ti ds/anetd -- cilium version`:
# cilium-dbg came with Cilium 1.15); an RKE2 node's annotation (sylva's docs: rke2.io/node-args '["server",
# "--cluster-cidr",…]', its labels elided), and RKE2's config-file booleans in it ('["agent","--selinux","false"]').
_SYLVA_ARGS = ('["server","--cluster-cidr","100.72.0.0/16","--cni","calico","--kubelet-arg","anonymous-auth=false",'
               '"--kubelet-arg","provider-id=metal3://sylva-system/mgmt-cluster-my-bmh-foo/mgmt-cluster-cp-056108e4c3-5b9sj",'
               '"--node-label","--node-label","node.longhorn.io/create-default-disk=config","--profile","cis-1.23",'
               '"--service-cidr","100.73.0.0/16","--tls-san","172.18.0.2","--tls-san","192.168.100.2","--token","********"]')
_RKE2_STATIC = ("an RKE2 node{}: RKE2 runs kube-proxy as the static pod kube-system/kube-proxy-cp01, which the API does not "
                "list (kube-proxy disabled, or its mirror pod not yet created)")


@pytest.mark.parametrize("node,error", [
    # the annotation alone tells RKE2 (was: "no pod labelled …", the generic guess)
    ({"annotations": {"rke2.io/node-args": _SYLVA_ARGS}}, _RKE2_STATIC.format("")),
    # "--disable-kube-proxy" "false" from the config file: kube-proxy is not disabled (was "started with
    # --disable-kube-proxy … another dataplane serves Services there")
    ({"kubelet": "v1.31.10+rke2r1", "annotations": {"rke2.io/node-args": '["server","--disable-kube-proxy","false"]'}},
     _RKE2_STATIC.format(" (kubelet v1.31.10+rke2r1)")),
    ({"kubelet": "v1.31.10+rke2r1", "annotations": {"rke2.io/node-args": '["server","--disable-kube-proxy","true"]'}},
     "an RKE2 node (kubelet v1.31.10+rke2r1) started with --disable-kube-proxy (its rke2.io/node-args): another dataplane "
     "serves Services there"),
])
def test_rke2_nodes_as_their_annotation_shows_them(api: FakeApiServer, tmp_path, node, error):
    no_lab_hello(api, kube_proxy=False)
    _node_is(api, **node)
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err) == f'error: no kube-proxy pod on node "cp01": {error}'


def test_gke_dataplane_v2_is_named_with_the_cli_its_cilium_has(api: FakeApiServer, tmp_path):
    """anetd's Cilium 1.11 has no cilium-dbg (the hint said 'cilium-dbg service list', which fails there)."""
    no_lab_hello(api, kube_proxy=False)
    api.cluster.add(_pod("anetd-r7gr2", [{"name": "cilium-agent", "image": "gke.gcr.io/cilium/cilium:v1.11.1-gke3.3"}],
                         {"k8s-app": "cilium"}))
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert hint_of(err) == ("hint: GKE Dataplane V2 runs there (its Cilium agent, pod kube-system/anetd-r7gr2): it serves "
                            "Services from eBPF maps, not netfilter rules; see them with: kubectl -n kube-system exec "
                            "anetd-r7gr2 -c cilium-agent -- cilium service list")
    assert api.cluster.execs() == []


def test_kube_router_without_its_service_proxy_is_not_said_to_serve_services(api: FakeApiServer, tmp_path):
    no_lab_hello(api, kube_proxy=False)
    api.cluster.add(_pod("kube-router-x8x8p", [{"name": "kube-router", "image": "docker.io/cloudnativelabs/kube-router:v2.2.0",
                                                "args": ["--run-router=true", "--run-service-proxy=false"]}],
                         {"k8s-app": "kube-router"}))
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err).startswith('error: no kube-proxy pod on node "cp01" (namespace kube-system: no pod labelled')
    assert "kube-router" not in err

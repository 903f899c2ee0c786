"""Windows nodes: kube-proxy there runs in kernelspace mode (winkernel) and programs the Host
Networking Service's load balancers, not netfilter. There is nothing to exec and nothing to read.

--all-nodes, --nodes and --sample on a cluster with a Windows node ended in exit 7 ("no kube-proxy
pod" on it). Such a node is now skipped up front (label kubernetes.io/os, else nodeInfo.operatingSystem),
named in the report as not read and why, and the run's exit code is the Linux nodes'. --node NAME of
a Windows node is one clear line, exit 9 (unsupported); a node chosen by a Service's endpoints that
turns out to be a Windows node gives way to a Linux node, with a note.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.lab import kpgen
from tests.live.conftest import Scenario
from tests.live.test_faults import hint_of, no_lab_hello, one_error

WHY = ("a Windows node (label kubernetes.io/os=windows): kube-proxy on Windows programs HNS load balancers "
       "(kernelspace mode), not netfilter rules")


def windows_node(api: FakeApiServer, name: str, by_label: bool = True) -> None:
    """A Windows node as the kubelet registers it: no Linux kube-proxy pod (its DaemonSet selects
    kubernetes.io/os=linux), the OS label (or, on an old kubelet, only status.nodeInfo)."""
    api.cluster.add_node(name, None, kube_proxy=False)
    node = api.cluster.objects[("Node", "", name)]
    if by_label:
        node["metadata"]["labels"]["kubernetes.io/os"] = "windows"
    node["status"]["nodeInfo"] = {"operatingSystem": "windows", "osImage": "Windows Server 2022 Datacenter"}


@pytest.mark.parametrize("by_label", [True, False])
def test_one_service_on_a_named_windows_node_is_one_clear_line_exit_9(api: FakeApiServer, tmp_path, by_label):
    no_lab_hello(api)
    windows_node(api, "win01", by_label)
    kc = str(api.write_kubeconfig(tmp_path / "kc"))

    code, out, err = svcpath("hello-service", "--node", "win01", "--kubeconfig", kc)

    assert code == ExitCode.UNSUPPORTED == 9
    seen = "label kubernetes.io/os=windows" if by_label else "nodeInfo.operatingSystem windows"
    assert one_error(err) == (f"error: node win01 is a Windows node ({seen}): kube-proxy on Windows programs HNS load "
                              "balancers (kernelspace mode), not netfilter rules: it has no rules kubectl-svcpath can read")
    assert hint_of(err) == "hint: read a Linux node instead: --node NAME (list them: kubectl get nodes -l kubernetes.io/os=linux)"
    assert out == ""  # the node was the user's choice: the line says it all
    assert api.cluster.execs() == []


def test_audit_against_a_named_windows_node_exit_9(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    windows_node(api, "win01")
    code, out, err = svcpath("--all", "--node", "win01", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.UNSUPPORTED and out == ""
    assert one_error(err).startswith("error: node win01 is a Windows node (label kubernetes.io/os=windows)")
    assert api.cluster.execs() == []


def test_many_nodes_of_which_none_is_linux_is_one_clear_line(api: FakeApiServer, tmp_path):
    no_lab_hello(api, nodes=("win01",), kube_proxy=False)
    windows_node(api, "win02")
    api.cluster.objects[("Node", "", "win01")]["metadata"]["labels"]["kubernetes.io/os"] = "windows"
    code, out, err = svcpath("hello-service", "--all-nodes", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.UNSUPPORTED and out == ""
    assert one_error(err) == (f"error: no node to read: node win01 is {WHY} (and 1 other node alike)")
    assert hint_of(err) == "hint: read Linux nodes: --nodes kubernetes.io/os=linux, or --node NAME"
    assert api.cluster.execs() == []


E1, E2, WIN = "10.244.1.5", "10.244.2.6", "10.244.9.7"
WEB = kpgen.ServiceSpec("default", "web", "10.96.0.50", [kpgen.PortSpec("http", 80, 8080)], endpoints=[E1, E2])


def _mixed(sc: Scenario, on_windows: bool = False) -> None:
    """Linux nodes cp01, cp02 (one lab namespace each) and Windows node win01 (no kube-proxy pod)."""
    spec = dataclasses.replace(WEB, endpoints=[WIN]) if on_windows else WEB
    for name in ("cp01", "cp02"):
        sc.node(name, kpgen.generate([spec]))
    windows_node(sc.api, "win01")
    sc.cluster.add_objects(kpgen.api_objects(spec, node_of={E1: "cp01", E2: "cp02", WIN: "win01"}))
    sc.cluster.set_proxy_config("")


def _pods_listed_on(sc: Scenario) -> set[str]:
    return {q.split("=", 1)[1] for r in sc.cluster.requests if r.path.endswith("/pods")
            for q in r.query.get("fieldSelector", []) if q.startswith("spec.nodeName=")}


@pytest.mark.lab
@pytest.mark.api
def test_all_nodes_skips_a_windows_node_names_it_and_does_not_fail(scenario: Scenario):
    _mixed(scenario)
    kc = str(scenario.kubeconfig())

    code, out, err = svcpath("web", "--all-nodes", "-o", "json", "--kubeconfig", kc)

    assert code == ExitCode.OK, err  # was 7: "no kube-proxy pod" on win01
    assert err == ""
    doc = json.loads(out)
    assert [item["node"] for item in doc["items"]] == ["cp01", "cp02"]
    assert doc["errors"] == [] and doc["skipped"] == [{"node": "win01", "reason": WHY}]

    code, out, err = svcpath("web", "--all-nodes", "--kubeconfig", kc)
    assert code == ExitCode.OK and err == ""
    # (cp01 and cp02 hold the same rules and counters: one report, both named; 8768e18)
    assert "=== node cp01 (the same on node cp02) ===" in out and "win01 ===" not in out and "(the same" not in out.split("\n", 1)[1]
    assert f"Not read: node win01: {WHY}" in out.splitlines()

    # named in --nodes, or in the zone-less sample: the same
    code, out, err = svcpath("web", "--nodes", "cp02,win01", "-o", "json", "--kubeconfig", kc)
    doc = json.loads(out)
    assert code == ExitCode.OK and [i["node"] for i in doc["items"]] == ["cp02"] and doc["skipped"][0]["node"] == "win01"
    code, out, err = svcpath("web", "--sample", "2", "-o", "json", "--kubeconfig", kc)
    doc = json.loads(out)
    assert code == ExitCode.OK and [i["node"] for i in doc["items"]] == ["cp01", "cp02"]
    assert [s["node"] for s in doc["skipped"]] == ["win01"]
    assert {argv[0] for argv in scenario.cluster.execs()} <= {"iptables", "iptables-save"}
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_a_service_whose_endpoints_are_on_a_windows_node_is_read_on_a_linux_node(scenario: Scenario):
    _mixed(scenario, on_windows=True)

    code, out, err = svcpath("web", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == ExitCode.OK, out + err
    assert "Rules:    iptables (nf_tables) mode, node cp01" in out
    assert ("node cp01 is the first Ready Linux node by name (kube-proxy writes every Service's rules on every node), "
            f"read instead of node win01, {WHY}") in " ".join(out.split())
    scenario.assert_read_only()

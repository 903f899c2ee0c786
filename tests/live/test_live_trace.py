"""--trace live: the source pod's IP and the node's addresses come from the API (GETs only)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from tests.live.conftest import Scenario, hello_scenario

CIP = "10.101.173.15"
POD = "192.168.189.15"


@pytest.mark.lab
@pytest.mark.api
def test_trace_from_a_pod_with_addresses_from_the_api(scenario: Scenario):
    node = hello_scenario(scenario)
    scenario.cluster.add({"apiVersion": "v1", "kind": "Node",  # the Node object with its addresses
                          "metadata": {"name": "cp01", "labels": {"kubernetes.io/hostname": "cp01"}},
                          "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                     "addresses": [{"type": "InternalIP", "address": node.ip},
                                                   {"type": "Hostname", "address": "cp01"}]}})
    client = scenario.lab.add_pod(node, "client", "10.244.7.7")
    scenario.cluster.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "default"},
                          "spec": {"nodeName": "cp01", "containers": [{"name": "c", "image": "busybox"}]},
                          "status": {"phase": "Running", "podIP": "10.244.7.7"}})
    assert scenario.lab.connect(client, node.ip, 31576) == [f"products {POD}:9191"]
    scenario.snapshot_rules()

    r = run_cli("hello-service", "--trace", "pod/client", "--port", "port-v2", "-o", "json",
                "--kubeconfig", str(scenario.kubeconfig()))

    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "PacketTrace" and doc["node"] == "cp01"
    by_entry = {t["packet"]["entry"]: t for t in doc["traces"]}
    assert set(by_entry) == {"clusterIP", "nodePort"}  # the node port on the Node's InternalIP, no --node-ip needed
    for t in by_entry.values():
        assert t["packet"]["source"] == "10.244.7.7" and t["packet"]["from"] == "pod/client (10.244.7.7)"
        assert t["verdict"] == "delivered"
        assert {(b["endpoint"]["ip"], b["endpoint"]["port"]) for b in t["branches"]} == {(POD, 9191)}
    assert by_entry["nodePort"]["packet"]["destination"] == node.ip
    paths = {r.path for r in scenario.cluster.requests}
    assert "/api/v1/namespaces/default/pods/client" in paths and "/api/v1/nodes" in paths
    scenario.assert_read_only({("iptables", "--version"), ("iptables-save", "-c")})


@pytest.mark.api
def test_trace_from_a_pod_that_does_not_exist_says_to_check_its_name(api, tmp_path):
    """The hint for kube-proxy's own pod vanishing ("replaced; run again") is no help for a mistyped pod/NAME."""
    from kubectl_svcpath.errors import ExitCode
    from tests.conftest import svcpath
    from tests.live.test_faults import hint_of, no_lab_hello, one_error

    no_lab_hello(api)
    code, out, err = svcpath("hello-service", "--trace", "pod/clinet", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))

    assert code == ExitCode.NOT_FOUND and out == ""
    assert one_error(err) == 'error: pod "clinet" in namespace "default" not found'
    assert hint_of(err) == "hint: check the name and the namespace: kubectl get pods -n default"
    assert api.cluster.execs() == []

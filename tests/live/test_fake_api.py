"""The fake API server is faithful (real kubectl works against it) and strict (it flags writes)."""

from __future__ import annotations

import json
import shutil
import ssl
import urllib.error
import urllib.request

import pytest

from tests.fakeapi.server import FakeApiServer, FakeCluster
from tests.lab import kpgen
from tests.lab.netns import skip_or_fail
from tests.live.conftest import Scenario, hello_scenario

pytestmark = pytest.mark.api


def _open(server: FakeApiServer, path: str, method: str = "GET", token: str | None = None):
    ctx = ssl.create_default_context(cafile=str(server.cert.cert))
    req = urllib.request.Request(server.url + path, method=method, data=b"{}" if method != "GET" else None,
                                 headers={"Authorization": f"Bearer {token or server.cluster.token}"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_writes_watches_and_unknown_paths_are_refused_and_recorded(cert):
    cluster = FakeCluster()
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service()))
    with FakeApiServer(cluster, cert) as server:
        assert _open(server, "/api/v1/namespaces/default/services/hello-service")[0] == 200
        code, body = _open(server, "/api/v1/namespaces/default/services/hello-service", method="DELETE")
        assert (code, body["kind"], body["code"]) == (405, "Status", 405)
        assert _open(server, "/api/v1/namespaces/default/services", method="POST")[0] == 405
        assert _open(server, "/api/v1/secrets")[0] == 404
        assert _open(server, "/api/v1/nodes?watch=true")[0] == 405
        assert _open(server, "/api/v1/namespaces/default/services/nope")[0] == 404  # a real answer, no violation
        assert _open(server, "/api/v1/nodes", token="wrong")[0] == 401
    assert cluster.violations == ["DELETE /api/v1/namespaces/default/services/hello-service",
                                  "POST /api/v1/namespaces/default/services", "GET /api/v1/secrets (not a route)",
                                  "watch /api/v1/nodes"]
    assert [r.method for r in cluster.requests] == ["GET", "DELETE", "POST", "GET", "GET", "GET", "GET"]


def test_list_items_come_without_kind_and_selectors_filter(cert):
    cluster = FakeCluster()
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service()))
    cluster.add_objects(kpgen.api_objects(kpgen.ServiceSpec("default", "other", "10.96.0.2", [kpgen.PortSpec("", 80, 80)])))
    with FakeApiServer(cluster, cert) as server:
        code, body = _open(server, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
                                   "?labelSelector=kubernetes.io%2Fservice-name%3Dhello-service")
    assert code == 200 and body["kind"] == "EndpointSliceList"
    assert [i["metadata"]["name"] for i in body["items"]] == ["hello-service-abcde"]
    assert "kind" not in body["items"][0]


@pytest.mark.lab
def test_real_kubectl_reads_and_execs_against_it(scenario: Scenario):
    import subprocess

    if shutil.which("kubectl") is None:
        skip_or_fail("kubectl is not installed (make system-deps)")
    hello_scenario(scenario)
    kc = str(scenario.kubeconfig())
    pod = next(name for kind, _, name in scenario.cluster.objects if kind == "Pod")
    got = subprocess.run(["kubectl", "--kubeconfig", kc, "get", "svc", "hello-service", "-o", "json"],
                         capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["spec"]["clusterIP"] == "10.101.173.15"
    ex = subprocess.run(["kubectl", "--kubeconfig", kc, "-n", "kube-system", "exec", pod, "--",
                         "iptables-save", "-c", "-t", "nat"], capture_output=True, text=True, timeout=60)
    assert ex.returncode == 0, ex.stderr
    assert "-A KUBE-SVC-R4PDB35TUPNR4CEW" in ex.stdout and ex.stdout.rstrip().endswith(tuple("0123456789"))
    scenario.cluster.faults.exec_exit = {"iptables-save": (3, "boom\n")}
    bad = subprocess.run(["kubectl", "--kubeconfig", kc, "-n", "kube-system", "exec", pod, "--", "iptables-save", "-c"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 3 and "boom" in bad.stderr
    # (benchmarks) an exec replayed from memory: the recorded bytes, exit 0, the command not run again
    scenario.cluster.faults.exec_exit = {}
    node = scenario.cluster.nodes[scenario.cluster.objects[("Pod", "kube-system", pod)]["spec"]["nodeName"]]
    scenario.cluster.replay[(node.netns or "", ("iptables-save", "-c", "-t", "nat"))] = b"recorded \xc3\xa9\n" * 40_000
    again = subprocess.run(["kubectl", "--kubeconfig", kc, "-n", "kube-system", "exec", pod, "--",
                            "iptables-save", "-c", "-t", "nat"], capture_output=True, timeout=60)
    assert again.returncode == 0 and again.stdout == b"recorded \xc3\xa9\n" * 40_000, again.stderr


def test_lists_come_in_pages_and_continue_tokens_are_strict(cert):
    """limit=N gives N items and a continue token; the token is good only for the list it came from."""
    cluster = FakeCluster()
    for i in range(5):
        cluster.add_objects(kpgen.api_objects(kpgen.ServiceSpec("default", f"s{i}", f"10.96.0.{i + 2}", [kpgen.PortSpec("", 80, 80)])))
    with FakeApiServer(cluster, cert) as server:
        names, tokens = [], [""]
        while tokens[-1] is not None:
            query = "limit=2" + (f"&continue={tokens[-1]}" if tokens[-1] else "")
            code, body = _open(server, f"/api/v1/namespaces/default/services?{query}")
            assert code == 200 and len(body["items"]) <= 2
            names += [i["metadata"]["name"] for i in body["items"]]
            tokens.append(body["metadata"].get("continue"))
        assert names == [f"s{i}" for i in range(5)] and len(tokens) == 4  # 3 pages: 2 + 2 + 1
        first_token = tokens[1]
        assert _open(server, "/api/v1/namespaces/default/services")[1]["metadata"].get("continue") is None  # no limit: all
        assert not cluster.violations
        # the same token on another list, with another selector, or with a resourceVersion: refused
        assert _open(server, f"/api/v1/services?limit=2&continue={first_token}")[0] == 400
        assert _open(server, f"/api/v1/namespaces/default/services?limit=2&labelSelector=a%3Db&continue={first_token}")[0] == 400
        assert _open(server, f"/api/v1/namespaces/default/services?limit=2&resourceVersion=1&continue={first_token}")[0] == 400
        assert _open(server, "/api/v1/namespaces/default/services?limit=2&continue=bm9wZQ")[0] == 400
        assert len(cluster.violations) == 4
        cluster.faults.expire_continue = 1
        code, body = _open(server, f"/api/v1/namespaces/default/services?limit=2&continue={first_token}")
        assert (code, body["reason"]) == (410, "Expired")
        assert _open(server, f"/api/v1/namespaces/default/services?limit=2&continue={first_token}")[0] == 200  # once

"""The plugin talks through the official client's own request path (kube/transport.py): every
kind of kubeconfig credential reaches both the reads and the WebSocket execs, the requests are
the ones the generated methods send, and none of the generated API or model modules is loaded.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from kubectl_svcpath import __version__
from tests.conftest import svcpath
from tests.fakeapi.server import Cert
from tests.live.conftest import Scenario, hello_scenario

pytestmark = [pytest.mark.lab, pytest.mark.api]

PLUGIN = """\
import json, sys
with open(sys.argv[1], "a") as f:
    f.write("ran\\n")
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": sys.argv[2]}}))
"""


def _b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.mark.parametrize("how", ["exec-plugin", "client-certificate"])
def test_kubeconfig_credentials_reach_the_reads_and_the_execs(scenario: Scenario, client_cert: Cert, tmp_path, how):
    hello_scenario(scenario)
    if how == "exec-plugin":
        script, ran = tmp_path / "credential-plugin.py", tmp_path / "plugin-ran"
        script.write_text(PLUGIN)
        user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable,
                         "args": [str(script), str(ran), scenario.cluster.token], "interactiveMode": "Never"}}
        expected = "token"
    else:
        user = {"client-certificate-data": _b64(client_cert.cert), "client-key-data": _b64(client_cert.key)}
        expected = f"cert:{scenario.cluster.cert_user}"
    kc = scenario.api.write_kubeconfig(tmp_path / "kc", user=user)

    code, out, err = svcpath("hello-service", "-o", "json", "--kubeconfig", str(kc))

    assert code == 0, err
    doc = json.loads(out)
    assert (doc["node"], doc["backend"]) == ("cp01", "nf_tables")
    reads = [r for r in scenario.cluster.requests if r.argv is None]
    execs = [r for r in scenario.cluster.requests if r.argv is not None]
    assert reads and execs
    assert {r.credential for r in scenario.cluster.requests} == {expected}
    assert {r.status for r in execs} == {101}
    if how == "exec-plugin":
        assert ran.read_text().count("ran") >= 1


def test_requests_are_what_the_generated_methods_send(scenario: Scenario):
    hello_scenario(scenario)
    assert svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))[0] == 0
    reads = [r for r in scenario.cluster.requests if r.argv is None]
    # sent concurrently (tests/live/test_live_concurrency.py): the order they arrive in varies
    assert sorted((r.path, sorted(r.query.items())) for r in reads) == sorted((path, sorted(query.items())) for path, query in [
        ("/api/v1/namespaces/default/services/hello-service", {}),
        ("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
         {"labelSelector": ["kubernetes.io/service-name=hello-service"], "limit": ["500"]}),  # LISTs in pages, as kubectl
        ("/api/v1/namespaces/kube-system/pods", {"fieldSelector": ["spec.nodeName=cp01"],
                                                 "labelSelector": ["k8s-app=kube-proxy"], "limit": ["500"]}),
        ("/api/v1/namespaces/kube-system/configmaps/kube-proxy", {}),
        ("/api/v1/nodes/cp01", {}),  # the node's zone label (topology hints)
    ])
    assert {r.user_agent for r in reads} == {f"kubectl-svcpath/{__version__}"}
    pod = reads[2] and next(name for kind, _, name in scenario.cluster.objects if kind == "Pod")
    execs = [r for r in scenario.cluster.requests if r.argv is not None]
    assert [r.path for r in execs] == [f"/api/v1/namespaces/kube-system/pods/{pod}/exec"]
    # connect_get_namespaced_pod_exec's query: the command repeated, then container and the stream flags
    assert [{k: [v.lower() for v in vs] for k, vs in r.query.items()} for r in execs] == [
        {"command": [a.lower() for a in argv], "container": ["kube-proxy"], "stderr": ["true"], "stdin": ["false"],
         "stdout": ["true"], "tty": ["false"]}
        for argv in (["iptables-save", "-c"],)]  # its header tells the iptables version: no `iptables --version`


def test_a_live_run_loads_none_of_the_generated_api_and_model_modules(scenario: Scenario, tmp_path):
    """kubernetes>=37 imports its generated classes lazily; CoreV1Api alone costs ~2 s of imports."""
    from kubernetes.client import ApiClient

    if not hasattr(ApiClient, "param_serialize"):  # the lazy, openapi-generator "python" client
        pytest.skip("kubernetes <= 36 imports every generated module in `import kubernetes` itself")
    hello_scenario(scenario)
    modules = tmp_path / "modules.txt"
    # the console script's entry point, in a fresh interpreter that lists its modules at exit
    child = (f"import atexit, sys\n"
             f"atexit.register(lambda: open({str(modules)!r}, 'w').write('\\n'.join(sorted(sys.modules))))\n"
             f"from kubectl_svcpath.cli import main\n"
             f"main(['hello-service', '-o', 'json', '--kubeconfig', {str(scenario.kubeconfig())!r}])\n")
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["node"] == "cp01"
    loaded = set(modules.read_text().split())
    assert {"kubernetes.config.kube_config", "kubernetes.client.api_client", "kubernetes.stream.ws_client"} <= loaded
    generated = sorted(m for m in loaded if m.startswith(("kubernetes.client.api.", "kubernetes.client.models.")))
    assert generated == []

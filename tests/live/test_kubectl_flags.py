"""kubectl's connection flags (issue 10): each one changes what the strict lab API server receives.

The server records, per request, how it authenticated (bearer token or client certificate CN),
the impersonation headers (every Impersonate-Group line), and the TLS server name asked for.
Most tests need only the API server (the node has no namespace, so the exec fails after the
reads); the impersonation test runs the whole live path, exec included, in a netns lab.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import svcpath
from tests.fakeapi.server import Cert, FakeApiServer, FakeCluster, closed_port, make_cert, write_kubeconfig
from tests.lab import kpgen
from tests.lab.netns import skip_or_fail
from tests.live.conftest import Scenario, hello_scenario

SERVICE_PATH = "/api/v1/namespaces/default/services/hello-service"
pytestmark = pytest.mark.api


def _objects(cluster: FakeCluster) -> None:
    """hello-service and its slice; node cp01 has a kube-proxy pod but no namespace to exec in."""
    cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": "cp01"}))
    cluster.add_node("cp01", None)


def _service_gets(cluster: FakeCluster) -> list:
    return [r for r in cluster.requests if r.path == SERVICE_PATH]


def _kubeconfig(path: Path, clusters: dict[str, dict], users: dict[str, dict], cluster: str, user: str) -> Path:
    doc = {"apiVersion": "v1", "kind": "Config",
           "clusters": [{"name": n, "cluster": c} for n, c in clusters.items()],
           "users": [{"name": n, "user": u} for n, u in users.items()],
           "contexts": [{"name": "ctx", "context": {"cluster": cluster, "user": user}}],
           "current-context": "ctx"}
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def api_only(api: FakeApiServer) -> FakeApiServer:
    _objects(api.cluster)
    return api


# --- impersonation -----------------------------------------------------------------------------

@pytest.mark.lab
def test_as_impersonates_on_every_request_exec_included(scenario: Scenario):
    node = hello_scenario(scenario)
    scenario.lab.connect(node, "10.101.173.15", 39090, n=1)

    code, out, err = svcpath("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()),
                             "--as", "jane", "--as-group", "oncall", "--as-group", "system:authenticated",
                             "--as-uid", "u-42")

    assert code == 0, err
    assert json.loads(out)["node"] == "cp01"
    reqs = scenario.cluster.requests
    assert any(r.argv for r in reqs), "no exec reached the server"
    want = {"user": "jane", "groups": ["oncall", "system:authenticated"], "uid": "u-42"}
    assert [(r.path, r.impersonate) for r in reqs if r.impersonate != want] == []
    scenario.assert_read_only()


def test_impersonation_headers_match_what_kubectl_sends(api_only: FakeApiServer, tmp_path: Path):
    if shutil.which("kubectl") is None:
        skip_or_fail("kubectl is not installed (make system-deps)")
    kc = str(api_only.write_kubeconfig(tmp_path / "kc"))
    got = subprocess.run(["kubectl", "--kubeconfig", kc, "get", "svc", "hello-service", "--as", "jane",
                          "--as-group", "a", "--as-group", "b", "-o", "name"], capture_output=True, text=True, timeout=60)
    assert got.returncode == 0, got.stderr
    kubectl_saw = _service_gets(api_only.cluster)[-1].impersonate
    api_only.cluster.requests.clear()

    svcpath("hello-service", "--kubeconfig", kc, "--as", "jane", "--as-group", "a", "--as-group", "b")

    assert _service_gets(api_only.cluster)[0].impersonate == kubectl_saw == {"user": "jane", "groups": ["a", "b"]}


def test_as_group_without_as_is_a_usage_error_and_sends_nothing(api_only: FakeApiServer, tmp_path: Path):
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api_only.write_kubeconfig(tmp_path / "kc")),
                           "--as-group", "admins")
    assert code == 2 and "--as" in err
    assert api_only.cluster.requests == []


# --- credentials and server --------------------------------------------------------------------

def test_token_replaces_the_kubeconfig_users_token(api_only: FakeApiServer, tmp_path: Path):
    kc = str(api_only.write_kubeconfig(tmp_path / "kc", token="expired-token"))
    code, _, err = svcpath("hello-service", "--kubeconfig", kc)
    assert code == 5 and "unauthorized" in err

    code, _, err = svcpath("hello-service", "--kubeconfig", kc, "--token", api_only.cluster.token)

    last = _service_gets(api_only.cluster)[-1]
    assert (last.status, last.credential) == (200, "token"), err
    assert code not in (5, 6)


def test_a_rejected_token_given_with_the_flag_is_not_blamed_on_the_kubeconfig(api_only: FakeApiServer, tmp_path: Path):
    kc = str(api_only.write_kubeconfig(tmp_path / "kc"))  # its own token is good

    code, out, err = svcpath("hello-service", "--kubeconfig", kc, "--token", "expired-token")

    assert code == 5 and out == ""
    assert err.startswith(f"error: unauthorized at {api_only.url}: the API server rejected the credentials"), err
    assert "kubeconfig" not in err.splitlines()[0]


def test_server_replaces_the_kubeconfig_server(api_only: FakeApiServer, cert: Cert, tmp_path: Path):
    kc = str(write_kubeconfig(tmp_path / "kc", f"https://127.0.0.1:{closed_port()}", cert, api_only.cluster.token))
    code, _, err = svcpath("hello-service", "--kubeconfig", kc)
    assert code == 6 and "connection refused" in err and not api_only.cluster.requests

    code, _, err = svcpath("hello-service", "--kubeconfig", kc, "-s", api_only.url)

    assert [r.status for r in _service_gets(api_only.cluster)] == [200], err


def test_flags_alone_without_any_kubeconfig(api_only: FakeApiServer, cert: Cert, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    code, _, err = svcpath("hello-service", "--server", api_only.url, "--token", api_only.cluster.token,
                           "--certificate-authority", str(cert.cert))

    assert [(r.status, r.credential) for r in _service_gets(api_only.cluster)] == [(200, "token")], err


def test_user_and_cluster_pick_kubeconfig_entries(api_only: FakeApiServer, cert: Cert, tmp_path: Path):
    kc = str(_kubeconfig(tmp_path / "kc",
                         {"down": {"server": f"https://127.0.0.1:{closed_port()}", "certificate-authority-data": cert.ca_data},
                          "lab": {"server": api_only.url, "certificate-authority-data": cert.ca_data}},
                         {"stale": {"token": "expired-token"}, "oncall": {"token": api_only.cluster.token}},
                         cluster="down", user="stale"))
    assert svcpath("hello-service", "--kubeconfig", kc)[0] == 6

    code, _, err = svcpath("hello-service", "--kubeconfig", kc, "--cluster", "lab")
    assert code == 5 and [r.credential for r in _service_gets(api_only.cluster)] == [None]  # reached; stale token

    svcpath("hello-service", "--kubeconfig", kc, "--cluster", "lab", "--user", "oncall")
    assert [r.credential for r in _service_gets(api_only.cluster)] == [None, "token"]

    code, _, err = svcpath("hello-service", "--kubeconfig", kc, "--user", "nobody")
    assert code == 6 and 'user "nobody" not found' in err and "kubectl config get-users" in err


def test_certificate_authority_and_insecure_skip_tls_verify(api_only: FakeApiServer, tmp_path: Path):
    kc = str(_kubeconfig(tmp_path / "kc", {"lab": {"server": api_only.url}},
                         {"u": {"token": api_only.cluster.token}}, cluster="lab", user="u"))
    code, _, err = svcpath("hello-service", "--kubeconfig", kc)
    assert code == 6 and "TLS" in err and not api_only.cluster.requests  # the system CAs do not know the lab's

    svcpath("hello-service", "--kubeconfig", kc, "--certificate-authority", str(api_only.cert.cert))
    svcpath("hello-service", "--kubeconfig", kc, "--insecure-skip-tls-verify")

    assert [r.status for r in _service_gets(api_only.cluster)] == [200, 200]


def test_client_certificate_and_key(api_only: FakeApiServer, client_cert: Cert, tmp_path: Path):
    kc = str(api_only.write_kubeconfig(tmp_path / "kc", user={}))
    assert svcpath("hello-service", "--kubeconfig", kc)[0] == 5

    svcpath("hello-service", "--kubeconfig", kc, "--client-certificate", str(client_cert.cert),
            "--client-key", str(client_cert.key))

    assert [r.credential for r in _service_gets(api_only.cluster)] == [None, f"cert:{api_only.cluster.cert_user}"]


def test_tls_server_name_is_sent_and_verified(tmp_path: Path):
    name = "kube-apiserver.svcpath-lab"
    named = make_cert(tmp_path / "certs", dns_name=name)  # valid for the name only, not for 127.0.0.1
    cluster = FakeCluster()
    _objects(cluster)
    with FakeApiServer(cluster, named) as api:
        kc = str(api.write_kubeconfig(tmp_path / "kc"))
        code, _, err = svcpath("hello-service", "--kubeconfig", kc)
        assert code == 6 and "TLS" in err

        svcpath("hello-service", "--kubeconfig", kc, "--tls-server-name", name)

    assert [(r.status, r.sni) for r in _service_gets(cluster)] == [(200, name)]


# --- -v N -------------------------------------------------------------------------------------------

@pytest.mark.lab
def test_v_logs_each_request_without_secrets(scenario: Scenario):
    hello_scenario(scenario)

    code, _, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()), "-v=6", "--as", "jane-doe")

    assert code == 0, err
    url = scenario.api.url
    lines = err.splitlines()
    assert any(line.startswith(f"GET {url}{SERVICE_PATH} 200 OK in ") and line.endswith(" ms") for line in lines), err
    assert any(line.startswith(f"GET {url}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=")
               for line in lines), err
    assert any("/exec?command=iptables-save&command=-c&container=kube-proxy" in line and " 101 Switching Protocols in " in line
               for line in lines), err
    assert len([r for r in scenario.cluster.requests]) == len(lines)
    for secret in (scenario.cluster.token, "Bearer", "jane-doe", "Impersonate"):
        assert secret not in err


def test_v_zero_logs_nothing(api_only: FakeApiServer, tmp_path: Path):
    _, _, err = svcpath("hello-service", "--kubeconfig", str(api_only.write_kubeconfig(tmp_path / "kc")), "-v", "0")
    assert "GET " not in err


# --- suggestions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed,hint", [
    ("--ass", "did you mean --as?"),
    ("--namspace", "did you mean --namespace?"),
    ("--frobnicate", "see 'kubectl svcpath --help'"),  # nothing alike: no guess
    ("--field-selector", "svcpath reads one Service"),
])
def test_unknown_options_suggest_only_look_alikes(typed: str, hint: str):
    code, _, err = svcpath("web", typed, "x")
    assert code == 2
    assert f"hint: {hint}" in err
    assert "mean --all" not in err


def test_as_is_an_option_not_a_typo_of_all():
    code, _, err = svcpath("web", "--as")
    assert code == 2 and "flag needs an argument: --as" in err and "--all" not in err

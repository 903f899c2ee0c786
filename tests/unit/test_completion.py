"""Shell completion as users get it: the real kubectl runs our ``kubectl_complete-svcpath``.

Every test goes through ``kubectl __complete svcpath ...`` (kubectl's plugin completion protocol)
with the helper from the venv on PATH, and asserts the candidates and the cobra directive that the
shell would receive. Names come from a small local API server that speaks just enough of the
Kubernetes API (discovery + list) for kubectl; it records every request so the tests can check
which namespace was asked for.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_svcpath import completion

VENV_BIN = Path(sys.executable).parent
HELPER = VENV_BIN / "kubectl_complete-svcpath"
KUBECTL = shutil.which("kubectl")

pytestmark = pytest.mark.skipif(
    KUBECTL is None and os.environ.get("CI") != "true",
    reason="kubectl not installed (make system-deps installs kubernetes-client)",
)


# --- a fake kube-apiserver: discovery + list for services, nodes, namespaces ---------------------

API_RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "v1",
    "resources": [
        {"name": "services", "singularName": "service", "namespaced": True, "kind": "Service",
         "verbs": ["get", "list"], "shortNames": ["svc"]},
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
         "verbs": ["get", "list"], "shortNames": ["no"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
         "verbs": ["get", "list"], "shortNames": ["ns"]},
    ],
}


def _service(ns: str, name: str, type_: str, ip: str, ports: list[dict] | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": type_, "clusterIP": ip, "ports": ports or [{"port": 80, "protocol": "TCP"}]}}


class FakeApi:
    """A recording HTTP server with the routes kubectl's ``get`` needs."""

    def __init__(self) -> None:
        self.services = {
            "default": [_service("default", "hello-service", "NodePort", "10.101.173.15",
                                 [{"name": "port-v1", "port": 39090, "protocol": "TCP"},
                                  {"name": "port-v2", "port": 49191, "protocol": "TCP"}]),
                        _service("default", "kubernetes", "ClusterIP", "10.96.0.1")],
            "team-b": [_service("team-b", "web", "ClusterIP", "10.96.7.7"),
                       _service("team-b", "worker", "ClusterIP", "10.96.7.8"),
                       # a name kubectl accepts from a hostile cluster must not reach the terminal raw
                       _service("team-b", "wonky", "ClusterIP\x1b[31m", "10.96.7.9")],
        }
        self.nodes = ["cp01", "worker-1", "worker-2"]
        self.requests: list[str] = []
        self.delay = 0.0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                api.requests.append(self.path)
                path = urllib.parse.urlsplit(self.path).path
                if api.delay and path != "/version":
                    # kubectl itself GETs /version (5 s timeout) before it calls the helper
                    time.sleep(api.delay)
                code, body = api.route(path)
                data = json.dumps(body).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a client that timed out

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if path == "/version":
            return 200, {"major": "1", "minor": "32", "gitVersion": "v1.32.4"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"],
                         "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}
        if path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        if path == "/api/v1":
            return 200, API_RESOURCES
        if path == "/api/v1/nodes":
            items = [{"metadata": {"name": n}, "status": {"nodeInfo": {"kubeletVersion": "v1.32.4"}}}
                     for n in self.nodes]
            return 200, {"kind": "NodeList", "apiVersion": "v1", "items": items}
        if path == "/api/v1/namespaces":
            items = [{"metadata": {"name": n}} for n in sorted(self.services)]
            return 200, {"kind": "NamespaceList", "apiVersion": "v1", "items": items}
        if len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "services":
            items = self.services.get(parts[3], [])
            return 200, {"kind": "ServiceList", "apiVersion": "v1", "items": items}
        if len(parts) == 6 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "services":
            for svc in self.services.get(parts[3], []):
                if svc["metadata"]["name"] == parts[5]:
                    return 200, svc
        return 404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"}

    def __enter__(self) -> FakeApi:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_kubeconfig(path: Path, server: str) -> Path:
    # Two contexts: the current one has namespace team-b, the other none (= default).
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: {server}\n"
        "users:\n- name: tester\n  user:\n    token: not-a-secret\n"
        "contexts:\n"
        "- name: team-b\n  context:\n    cluster: fake\n    user: tester\n    namespace: team-b\n"
        "- name: plain\n  context:\n    cluster: fake\n    user: tester\n"
        "current-context: team-b\n"
    )
    return path


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    """PATH with the venv's bin first (our helper), HOME in tmp (kubectl's discovery cache)."""
    e = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "BASH_COMP"))}
    e["PATH"] = f"{VENV_BIN}{os.pathsep}{e.get('PATH', '')}"
    e["HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir()
    # no kubeconfig at all unless a test provides one: kubectl would try localhost:8080
    e["KUBECONFIG"] = str(tmp_path / "absent-kubeconfig")
    return e


@pytest.fixture()
def api(tmp_path: Path, env: dict[str, str]) -> Iterator[FakeApi]:
    with FakeApi() as fake:
        env["KUBECONFIG"] = str(write_kubeconfig(tmp_path / "kubeconfig", fake.url))
        yield fake


def kubectl_complete(env: dict[str, str], *words: str) -> tuple[list[str], str]:
    """Run ``kubectl __complete svcpath WORDS...``; return (candidates, ':directive')."""
    assert KUBECTL, "kubectl is required (make system-deps)"
    proc = subprocess.run([KUBECTL, "__complete", "svcpath", *words], env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    # kubectl's own debug lines go to stderr; it must have called *our* helper.
    assert f"About to call: {HELPER}" in proc.stderr, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines and lines[-1].startswith(":"), proc.stdout
    return lines[:-1], lines[-1]


def names(candidates: list[str]) -> list[str]:
    return [c.split("\t", 1)[0] for c in candidates]


# --- flags and fixed values (no cluster needed) --------------------------------------------------


def test_helper_is_installed_next_to_the_plugin() -> None:
    assert HELPER.exists(), "pip install -e . must create kubectl_complete-svcpath (pyproject [project.scripts])"
    assert os.access(HELPER, os.X_OK)


def test_dash_lists_every_flag_with_a_description(env: dict[str, str]) -> None:
    candidates, directive = kubectl_complete(env, "-")
    assert directive == ":4"  # NoFileComp
    assert {"-n", "--namespace", "-o", "--output", "--color", "--node", "--help", "--version"} <= set(names(candidates))
    assert all("\t" in c and c.split("\t", 1)[1] for c in candidates), candidates


def test_flag_prefix_narrows_and_used_flags_are_hidden(env: dict[str, str]) -> None:
    candidates, _ = kubectl_complete(env, "--co")
    assert sorted(names(candidates)) == ["--color", "--context"]
    candidates, _ = kubectl_complete(env, "--color", "never", "--co")
    assert names(candidates) == ["--context"]


@pytest.mark.parametrize("words", [("-o", ""), ("--output", ""), ("web", "-o", "")], ids=" ".join)
def test_output_values(env: dict[str, str], words: tuple[str, ...]) -> None:
    candidates, directive = kubectl_complete(env, *words)
    assert names(candidates) == ["table", "wide", "tree", "json", "yaml"]
    assert directive == ":4"


def test_output_value_after_equals_and_prefix(env: dict[str, str]) -> None:
    assert kubectl_complete(env, "--output=y") == (["--output=yaml\tthe report as YAML"], ":4")
    candidates, _ = kubectl_complete(env, "-o", "t")
    assert names(candidates) == ["table", "tree"]


def test_color_values(env: dict[str, str]) -> None:
    candidates, directive = kubectl_complete(env, "--color", "")
    assert names(candidates) == ["auto", "always", "never"]
    assert directive == ":4"
    candidates, _ = kubectl_complete(env, "--color=a")
    assert names(candidates) == ["--color=auto", "--color=always"]


@pytest.mark.parametrize("flag", ["--kubeconfig", "--rules-file", "--manifest"])
def test_file_flags_let_the_shell_complete_files(env: dict[str, str], flag: str) -> None:
    # ':0' = ShellCompDirectiveDefault: the shell falls back to file names
    assert kubectl_complete(env, flag, "") == ([], ":0")


def test_no_cluster_means_no_names_and_no_noise(env: dict[str, str]) -> None:
    # KUBECONFIG points nowhere: kubectl fails; completion stays silent and quick
    candidates, directive = kubectl_complete(env, "")
    assert (candidates, directive) == ([], ":4")
    candidates, directive = kubectl_complete(env, "--node", "")
    assert (candidates, directive) == ([], ":4")


# --- names from the cluster ----------------------------------------------------------------------


def test_service_names_from_the_context_namespace(api: FakeApi, env: dict[str, str]) -> None:
    candidates, directive = kubectl_complete(env, "")
    assert directive == ":4"
    assert names(candidates) == ["web", "wonky", "worker"]
    assert "web\tClusterIP 10.96.7.7" in candidates
    assert any(r.startswith("/api/v1/namespaces/team-b/services") for r in api.requests)


def test_service_names_in_the_namespace_given_with_n(api: FakeApi, env: dict[str, str]) -> None:
    candidates, _ = kubectl_complete(env, "-n", "default", "hel")
    assert candidates == ["hello-service\tNodePort 10.101.173.15"]
    candidates, _ = kubectl_complete(env, "--namespace=default", "")
    assert names(candidates) == ["hello-service", "kubernetes"]


def test_attached_short_values_and_double_dash(api: FakeApi, env: dict[str, str]) -> None:
    # -ndefault is -n default; -ojson takes its value with it, so "" is still the SERVICE slot
    candidates, _ = kubectl_complete(env, "-ojson", "-ndefault", "")
    assert names(candidates) == ["hello-service", "kubernetes"]
    # after "--" everything is positional: "-x" is not a flag to complete
    assert kubectl_complete(env, "--", "-") == ([], ":4")


def test_context_flag_is_honoured(api: FakeApi, env: dict[str, str]) -> None:
    # context "plain" has no namespace: kubectl falls back to "default"
    candidates, _ = kubectl_complete(env, "--context", "plain", "")
    assert names(candidates) == ["hello-service", "kubernetes"]


def test_kubeconfig_flag_is_honoured(api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    kubeconfig = env.pop("KUBECONFIG")
    env["KUBECONFIG"] = str(tmp_path / "absent-kubeconfig")
    candidates, _ = kubectl_complete(env, "--kubeconfig", kubeconfig, "w")
    assert names(candidates) == ["web", "wonky", "worker"]


def test_descriptions_from_the_cluster_are_sanitised(api: FakeApi, env: dict[str, str]) -> None:
    candidates, _ = kubectl_complete(env, "wonk")
    assert len(candidates) == 1 and "\x1b" not in candidates[0]
    assert candidates[0].startswith("wonky\tClusterIP[31m")


def test_node_names_after_node(api: FakeApi, env: dict[str, str]) -> None:
    candidates, directive = kubectl_complete(env, "web", "--node", "")
    assert names(candidates) == ["cp01", "worker-1", "worker-2"]
    assert directive == ":4"
    candidates, _ = kubectl_complete(env, "--node=w")
    assert names(candidates) == ["--node=worker-1", "--node=worker-2"]
    assert any(urllib.parse.urlsplit(r).path == "/api/v1/nodes" for r in api.requests)


@pytest.mark.parametrize("prefix", ["default/", "default/h"])
def test_namespace_slash_name(api: FakeApi, env: dict[str, str], prefix: str) -> None:
    # SERVICE may be NAMESPACE/NAME: the namespace part picks where to list
    candidates, directive = kubectl_complete(env, prefix)
    assert names(candidates) == ["default/hello-service"] + (["default/kubernetes"] if prefix == "default/" else [])
    assert directive == ":4"


def test_svc_slash_name_uses_the_current_namespace(api: FakeApi, env: dict[str, str]) -> None:
    candidates, _ = kubectl_complete(env, "svc/wo")
    assert names(candidates) == ["svc/wonky", "svc/worker"]


def test_port_names_of_the_service_on_the_line(api: FakeApi, env: dict[str, str]) -> None:
    candidates, directive = kubectl_complete(env, "default/hello-service", "--port", "")
    assert candidates == ["port-v1\t39090/TCP", "port-v2\t49191/TCP"]
    assert directive == ":4"
    candidates, _ = kubectl_complete(env, "-n", "team-b", "web", "--port", "")
    assert candidates == ["80\t80/TCP"]  # an unnamed port: its number
    # no Service yet: nothing to ask
    assert kubectl_complete(env, "--port", "") == ([], ":4")


def test_proxy_mode_values(env: dict[str, str]) -> None:
    candidates, _ = kubectl_complete(env, "--proxy-mode", "")
    assert names(candidates) == ["iptables", "nftables", "ipvs"]


def test_namespace_and_context_values(api: FakeApi, env: dict[str, str]) -> None:
    candidates, _ = kubectl_complete(env, "-n", "")
    assert names(candidates) == ["default", "team-b"]
    candidates, _ = kubectl_complete(env, "--context", "")
    assert names(candidates) == ["plain", "team-b"]


def test_only_one_service_and_none_in_offline_modes(api: FakeApi, env: dict[str, str]) -> None:
    assert kubectl_complete(env, "web", "") == ([], ":4")
    assert kubectl_complete(env, "--example", "") == ([], ":4")
    before = len(api.requests)
    kubectl_complete(env, "--rules-file", "dump.txt", "")
    assert len(api.requests) == before  # nothing asked of the cluster


def test_slow_api_gives_up_silently(api: FakeApi, env: dict[str, str]) -> None:
    api.delay = 10.0  # longer than the helper's hard timeout
    start = time.monotonic()
    assert kubectl_complete(env, "") == ([], ":4")
    # not a timing test: it only proves the helper did not wait for the 10 s answer
    assert time.monotonic() - start < api.delay


# --- start-up: what the helper imports -----------------------------------------------------------


def test_helper_imports_neither_typer_nor_kubernetes(env: dict[str, str]) -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", str(HELPER), "-o", ""],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[-1] == ":4"
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "kubectl_svcpath" in imported
    assert not imported & {"typer", "kubernetes", "pydantic", "rich", "yaml", "iptc", "tabulate"}


# --- the flag table matches the CLI --------------------------------------------------------------


def cli_options() -> dict[str, tuple[set[str], bool, bool]]:
    """The typer app's options: primary long name -> (all spellings, takes a value, repeatable)."""
    import typer.main

    from kubectl_svcpath import cli

    command = typer.main.get_command(cli.app)
    out = {}
    for param in command.params:
        opts = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("-")]
        if not opts:
            continue  # the SERVICE argument
        long = next((o for o in opts if o.startswith("--")), opts[0])
        out[long] = (set(opts), not getattr(param, "is_flag", False), bool(getattr(param, "multiple", False)))
    return out


def test_completion_knows_every_cli_option() -> None:
    options = cli_options()
    table = {f.long: ({f.long, *([f.short] if f.short else [])}, f.takes_value, f.repeatable) for f in completion.FLAGS}
    # -h/--help is added by typer itself
    options.setdefault("--help", ({"--help", "-h"}, False, False))
    assert table == options

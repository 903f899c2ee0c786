"""Every way a live run can fail: one `error:` line (plus at most a hint), the documented exit code,
no traceback, no hang past --request-timeout, and nothing but reads on the wire.

Most cases need no root: the fake API server answers before any command would run. The ones
that need real output (truncation, real tool errors) use the netns lab.
"""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import run_cli, svcpath
from tests.fakeapi.server import FakeApiServer, closed_port, write_kubeconfig
from tests.lab import kpgen
from tests.live.conftest import Scenario, hello_scenario

pytestmark = pytest.mark.api


def no_lab_hello(api: FakeApiServer, nodes: tuple[str, ...] = ("cp01",), **node_kw) -> None:
    """hello-service on nodes that have no namespace: enough for every failure before a command runs."""
    spec = kpgen.hello_service()
    for n in nodes:
        api.cluster.add_node(n, netns=None, **node_kw)
    api.cluster.add_objects(kpgen.api_objects(spec, node_of={"192.168.189.15": nodes[0]}))
    api.cluster.set_proxy_config("")


def one_error(err: str) -> str:
    """The error line; asserts the stderr shape users see."""
    lines = err.strip("\n").splitlines()
    assert "Traceback" not in err
    assert lines and lines[0].startswith("error: "), err
    assert len(lines) <= 2 and all(ln.startswith("hint: ") for ln in lines[1:]), err
    assert not any(ch < " " for ln in lines for ch in ln), repr(err)  # no control characters reach the terminal
    return lines[0]


def hint_of(err: str) -> str:
    lines = err.strip("\n").splitlines()
    return lines[1] if len(lines) > 1 else ""


def only_reads(api: FakeApiServer) -> None:
    assert {r.method for r in api.cluster.requests} <= {"GET"}
    assert not api.cluster.violations


def test_service_not_found(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    code, out, err = svcpath("nope", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND == 4
    assert one_error(err) == 'error: service "nope" in namespace "default" not found'
    assert "kubectl get services -n default" in hint_of(err)
    assert out == "" and api.cluster.execs() == []
    only_reads(api)


def test_rbac_forbidden_exec_says_which_permission(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    api.cluster.faults.exec_forbidden = True
    code, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.FORBIDDEN == 5
    assert 'cannot create resource "pods/exec"' in one_error(err)
    # (it said 'forbidden: cannot create exec into pod …': the verb of the RBAC rule glued to kubectl's word)
    assert one_error(err).startswith('error: forbidden: cannot exec into pod "kube-proxy-')
    assert "kubectl auth can-i create pods/exec -n kube-system" in hint_of(err)
    assert "--print-rbac" in hint_of(err)
    only_reads(api)


@pytest.mark.parametrize("status,code,error,hint", [
    (401, ExitCode.FORBIDDEN, "error: unauthorized at https://127.0.0.1:", "log in again or refresh the token"),
    (404, ExitCode.NOT_FOUND, 'error: exec into pod "kube-proxy-', "the pod may have been replaced"),
])
def test_exec_upgrade_refused(api: FakeApiServer, tmp_path, status, code, error, hint):
    """The API server refuses the WebSocket upgrade itself (the reads went through)."""
    no_lab_hello(api)
    api.cluster.faults.exec_reject = status
    got, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert got == code
    assert one_error(err).startswith(error)
    assert hint in hint_of(err)
    assert "NOT READ on node cp01" in out  # the API's view is still shown (tests/live/test_no_exec.py)
    assert [r.status for r in api.cluster.requests if r.argv is not None] == [status]
    only_reads(api)


def test_rejected_credentials(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc", token="wrong")))
    assert code == ExitCode.FORBIDDEN
    assert "unauthorized" in one_error(err)


def test_exec_binary_missing_in_the_kube_proxy_image(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    api.cluster.faults.missing_binaries = {"iptables", "iptables-save"}
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED == 7
    line = one_error(err)
    assert "cannot run `iptables-save -c` in pod kube-system/kube-proxy-" in line
    assert line.endswith('"iptables-save" is not in the container (executable file not found in $PATH)')
    assert "--rules-file" in hint_of(err) and "--local" in hint_of(err)
    only_reads(api)


def test_exec_non_zero_exit_reports_the_first_stderr_line_sanitised(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    api.cluster.faults.exec_exit = {"iptables-save": (4, "\x1b[31miptables-save v1.8.9 (nf_tables): Could not fetch "
                                                         "rule set generation id: Permission denied\x07\nsecond line\n")}
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED
    line = one_error(err)
    assert "`iptables-save -c` failed in pod kube-system/kube-proxy-" in line and "(exit 4)" in line
    assert line.endswith("[31miptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied")
    assert "second line" not in err
    assert "privileges" in hint_of(err)


def test_no_kube_proxy_pod_explains_why_and_what_to_do(api: FakeApiServer, tmp_path):
    no_lab_hello(api, kube_proxy=False)
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err) == ('error: no kube-proxy pod on node "cp01" (namespace kube-system: no pod labelled '
                              "k8s-app=kube-proxy or component=kube-proxy, no container running kube-proxy)")
    hint = hint_of(err)
    assert "Cilium" in hint and "k3s" in hint and "--local" in hint and "--rules-file" in hint
    assert "see what runs there with kubectl get pods -A -o wide --field-selector spec.nodeName=cp01;" in hint
    # both label conventions were tried, then the node's kube-system pods for a container running kube-proxy, on that
    # node only
    pod_lists = [r.query for r in api.cluster.requests if r.path.endswith("/pods")]
    assert [q.get("labelSelector") for q in pod_lists] == [["k8s-app=kube-proxy"], ["component=kube-proxy"], None]
    assert all(q["fieldSelector"] == ["spec.nodeName=cp01"] for q in pod_lists)


def test_gke_style_static_pod_is_found_by_its_component_label(api: FakeApiServer, tmp_path):
    no_lab_hello(api, label="component=kube-proxy", pod_name="kube-proxy-cp01")
    api.cluster.faults.missing_binaries = {"iptables-save"}  # stop right after the pod was found
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED
    assert "pod kube-system/kube-proxy-cp01" in one_error(err)


def test_unknown_node_and_unknown_proxy_mode(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    kc = str(api.write_kubeconfig(tmp_path / "kc"))
    code, _, err = svcpath("hello-service", "--node", "nope", "--kubeconfig", kc)
    assert code == ExitCode.NOT_FOUND and one_error(err) == 'error: node "nope" not found'

    api.cluster.set_proxy_config("kernelspace")
    code, _, err = svcpath("hello-service", "--kubeconfig", kc)
    assert code == ExitCode.UNSUPPORTED == 9
    assert 'proxy mode "kernelspace"' in one_error(err)
    assert api.cluster.execs() == []


def test_without_a_ready_endpoint_the_first_ready_node_is_read(api: FakeApiServer, tmp_path):
    """No endpoint names a node (no endpoints: the classic outage): the first Ready node by name is read,
    and the report says why that node (it was a usage error, exit 2, that never said 'no-endpoints')."""
    spec = kpgen.ServiceSpec("default", "idle", "10.96.0.9", [kpgen.PortSpec("http", 80, 8080)])
    for n in ("cp00", "cp02", "cp01"):
        api.cluster.add_node(n, netns=None)
    api.cluster.objects[("Node", "", "cp00")]["status"]["conditions"][0]["status"] = "False"  # NotReady
    api.cluster.add_objects(kpgen.api_objects(spec))
    kc = str(api.write_kubeconfig(tmp_path / "kc"))

    code, out, err = svcpath("idle", "--kubeconfig", kc)

    assert code == ExitCode.COLLECT_FAILED  # (these nodes have no namespace: the exec fails, on cp01)
    assert "Rules:    NOT READ on node cp01:" in out and "iptables-save" in one_error(err)
    pod = next(r.path for r in api.cluster.requests if r.argv is not None)
    assert pod == f"/api/v1/namespaces/kube-system/pods/{_kube_proxy_pod('cp01')}/exec"
    api.cluster.requests.clear()

    code, out, err = svcpath("--all", "--kubeconfig", kc)

    assert code == ExitCode.COLLECT_FAILED and one_error(err).startswith("error: node cp01: ")
    assert {r.path for r in api.cluster.requests if r.argv is not None} == {pod}


def _kube_proxy_pod(node: str) -> str:
    import hashlib

    return f"kube-proxy-{hashlib.sha1(node.encode()).hexdigest()[:5]}"  # as FakeCluster.add_node names it


def test_external_name_service_is_refused_before_any_exec(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    svc = kpgen.api_objects(kpgen.hello_service())[0]
    svc["metadata"]["name"] = "ext"
    svc["spec"] = {"type": "ExternalName", "externalName": "example.org"}
    api.cluster.add(svc)
    code, _, err = svcpath("ext", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.UNSUPPORTED and "ExternalName" in one_error(err)
    assert "CNAME to example.org" in one_error(err)  # says who answers for it instead
    assert api.cluster.execs() == []


def test_missing_context_is_a_kubeconfig_error(api: FakeApiServer, tmp_path):
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")),
                           "--context", "nope")
    assert code == ExitCode.API_UNREACHABLE
    assert 'context "nope" not found in kubeconfig' in one_error(err)
    assert "kubectl config get-contexts" in hint_of(err)
    assert api.cluster.requests == []


# --- as users run it: the installed console script, bounded in time ---------------------------

def test_insecure_kubeconfig_adds_no_warnings(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    r = run_cli("nope", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc", insecure=True)), timeout=60)
    assert r.returncode == ExitCode.NOT_FOUND
    assert one_error(r.stderr) == 'error: service "nope" in namespace "default" not found'


def test_api_unreachable(cert, tmp_path):
    kc = write_kubeconfig(tmp_path / "kc", f"https://127.0.0.1:{closed_port()}", cert, "t")
    r = run_cli("hello-service", "--kubeconfig", str(kc), "--request-timeout", "5s", timeout=60)
    assert r.returncode == ExitCode.API_UNREACHABLE == 6
    assert one_error(r.stderr).endswith("connection refused")
    assert "kubectl cluster-info" in hint_of(r.stderr)
    assert r.stdout == ""


def test_slow_api_server_times_out_at_the_request_timeout(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    api.cluster.faults.delay = 60  # far longer than the subprocess may run
    r = run_cli("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")),
                "--request-timeout", "1s", timeout=40)
    assert r.returncode == ExitCode.API_UNREACHABLE
    assert one_error(r.stderr).startswith('error: request timed out after 1s: get service "hello-service"')
    assert "--request-timeout" in hint_of(r.stderr)


def test_slow_exec_times_out_at_the_request_timeout(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    api.cluster.faults.exec_delay = 60
    r = run_cli("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")),
                "--request-timeout", "2s", timeout=40)
    assert r.returncode == ExitCode.API_UNREACHABLE
    assert "did not finish within 2s" in one_error(r.stderr)


# --- with real rules in the lab ----------------------------------------------------------------

@pytest.mark.lab
@pytest.mark.parametrize("mode,code,words", [("cut", ExitCode.BAD_DUMP, "truncated"),
                                             ("drop", ExitCode.COLLECT_FAILED, "without an exit status")])
def test_truncated_exec_output_is_an_error_not_half_an_answer(scenario: Scenario, mode, code, words):
    hello_scenario(scenario)
    scenario.cluster.faults.truncate = mode
    got, out, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert got == code
    assert words in one_error(err)
    assert "NOT READ on node cp01" in out and "KUBE-SVC" not in out  # the API's view, no half-read rules


@pytest.mark.lab
def test_v4_channel_protocol_servers_work_too(scenario: Scenario):
    node = hello_scenario(scenario)
    scenario.cluster.protocols = ("v4.channel.k8s.io",)
    scenario.lab.connect(node, "10.101.173.15", 39090, n=1)
    code, out, err = svcpath("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == 0, err
    assert {r.subprotocol for r in scenario.cluster.requests if r.argv} == {"v4.channel.k8s.io"}


@pytest.mark.lab
@pytest.mark.parametrize("mode,argv,words", [
    ("nftables", ["nft", "-j", "list", "table", "ip", "kube-proxy"], "nftables table is missing"),
    ("ipvs", ["ipvsadm", "-Ln", "--stats", "--exact"], "no IPVS (ip_vs)"),
])
def test_mode_from_the_pod_flags_picks_the_listings(scenario: Scenario, mode, argv, words):
    """No ConfigMap: the container's --proxy-mode decides; the node has no such rules, so the listing fails."""
    scenario.node("cp01", kpgen.generate([kpgen.hello_service()], kpgen.HELLO_CONFIG),
                  command=["kube-proxy", f"--proxy-mode={mode}", "--v=2"])
    scenario.cluster.add_objects(kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": "cp01"}))
    scenario.snapshot_rules()
    code, _, err = svcpath("hello-service", "--kubeconfig", str(scenario.kubeconfig()))
    assert code == ExitCode.COLLECT_FAILED
    assert f"`{' '.join(argv)}` failed in pod" in one_error(err)
    assert words in hint_of(err)
    assert argv in scenario.cluster.execs()
    scenario.assert_read_only()


@pytest.mark.parametrize("content,words", [
    ("a: [b\n", "cannot read kubeconfig"),
    ("\x00\x01binary", "cannot read kubeconfig"),
    ("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n", "has no current context"),
    ("apiVersion: v1\nclusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
     "current-context: x\nusers:\n- name: u\n  user: {}\n", 'context "x" has no usable server address'),
    (None, "does not exist"),
])
def test_unusable_kubeconfig_is_one_clear_error(tmp_path, content, words):
    kc = tmp_path / "kubeconfig"
    if content is not None:
        kc.write_text(content)
    code, out, err = svcpath("web", "--kubeconfig", str(kc))
    assert code == ExitCode.API_UNREACHABLE
    assert words in one_error(err) and str(kc) in err
    assert out == ""


def test_fetch_service_objects_for_local_mode_reads_only_the_service_and_slices(api: FakeApiServer, tmp_path):
    from kubectl_svcpath import live

    no_lab_hello(api)
    req = live.LiveRequest("svc/hello-service", None, str(api.write_kubeconfig(tmp_path / "kc")), None, 10.0, None, False)
    ns, objects = live.fetch_service_objects(req)
    assert ns == "default" and [o["kind"] for o in objects] == ["Service", "EndpointSlice"]
    assert [r.path for r in api.cluster.requests] == ["/api/v1/namespaces/default/services/hello-service",
                                                      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"]


@pytest.mark.parametrize("path,hint", [
    (r"^/api/v1/services$", "hint: kubectl auth can-i list services -A; "),
    (r"^/apis/discovery\.k8s\.io/v1/endpointslices$", "hint: kubectl auth can-i list endpointslices.discovery.k8s.io -A; "),
])
def test_a_forbidden_list_across_namespaces_hints_can_i_with_a(api: FakeApiServer, tmp_path, path, hint):
    """Without -A, `kubectl auth can-i list services` asks about the context's namespace and may say yes."""
    no_lab_hello(api)
    api.cluster.faults.forbidden_paths = [path]

    code, out, err = svcpath("--all", "-A", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))

    assert code == ExitCode.FORBIDDEN and out == ""
    assert one_error(err).startswith("error: forbidden: cannot list ")
    assert hint_of(err).startswith(hint), err


@pytest.mark.parametrize("kind", ["Service", "EndpointSlice"])
def test_an_object_of_the_wrong_shape_is_refused_whatever_its_kind_field(api: FakeApiServer, tmp_path, kind):
    """The path says what an answer is: a Service whose "kind" field is not "Service" (a proxy's rewrite, the
    hostile-input campaign's -Infinity) is checked as a Service. Its port given as a string went past the check
    and made an internal error (AttributeError: 'str' object has no attribute 'get'), exit 1."""
    no_lab_hello(api)
    key = next(k for k in api.cluster.objects if k[0] == kind)
    obj = api.cluster.objects[key]
    obj["kind"] = float("-inf") if kind == "Service" else 7
    if kind == "Service":
        obj["spec"]["ports"].append("\x7f")
    else:
        obj["endpoints"][0]["addresses"] = "192.168.189.15"
    code, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.BAD_DUMP
    where = 'Service "default/hello-service": spec.ports[2] must be an object, not the string' if kind == "Service" else \
        'EndpointSlice "default/hello-service-'
    assert one_error(err).startswith(f"error: the API server's answer: {where}"), err
    assert "a proxy in front of it" in hint_of(err) and "kubectl get --raw" in hint_of(err)
    assert out == "" and api.cluster.execs() == []
    only_reads(api)


def test_a_denied_optional_read_is_a_note_naming_the_check_with_the_objects_name(api: FakeApiServer, tmp_path):
    """The printed Role grants kube-proxy's ConfigMap by its name (resourceNames): 'kubectl auth can-i get configmaps
    -n kube-system', the check the hints named, answers "no" even once it is granted; TYPE/NAME asks what the run
    needs. The notes of a denied Node or ConfigMap named no check at all."""
    no_lab_hello(api)
    api.cluster.replay[("", ("iptables-save", "-c"))] = kpgen.generate([kpgen.hello_service()], kpgen.HELLO_CONFIG).encode()
    api.cluster.faults.forbidden_paths = ["/nodes/", "/configmaps/"]
    code, out, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.OK and err == "", err
    text = " ".join(out.split())
    assert "its zone is inferred from the rules, if at all (check: kubectl auth can-i get nodes/cp01)" in text
    assert ("the proxy mode is taken from the pod's flags or detected from the rules (check: kubectl auth can-i get "
            "configmaps/kube-proxy -n kube-system)") in text
    api.cluster.faults.forbidden_paths = ["/services/"]
    code, _, err = svcpath("hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.FORBIDDEN
    assert hint_of(err).startswith("hint: kubectl auth can-i get services/hello-service -n default; ")

"""Issue 10, the live audit: `kubectl svcpath --all [-n NS | -A]` lists the Services and EndpointSlices
of the namespace (or the cluster) and reads ONE node's rules once, then audits every Service in the
same pass as a dump: problems first, --problems, a totals line, -o json, the node said in the header.

The node is a netns lab node loaded with kube-proxy's rules for four Services in two namespaces; the
strict fake API server serves the Services, their slices and a second node without endpoints (first
by name, so choosing it would be wrong).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.lab import kpgen
from tests.live.conftest import Scenario
from tests.live.test_faults import hint_of, one_error
from tests.terminal import in_tmux

A, B = "192.168.7.11", "192.168.7.12"
WEB = kpgen.ServiceSpec("default", "web", "10.96.7.7", [kpgen.PortSpec("http", 80, 8080)], endpoints=[A, B])
EMPTY = kpgen.ServiceSpec("default", "empty", "10.96.7.8", [kpgen.PortSpec("http", 80, 8080)], endpoints=[])
# the rules still send api's traffic to 192.168.7.20; the slice says the pod is now 192.168.7.21
API_RULES = kpgen.ServiceSpec("default", "api", "10.96.7.9", [kpgen.PortSpec("grpc", 9000, 9000)], endpoints=["192.168.7.20"])
API_NOW = kpgen.ServiceSpec("default", "api", "10.96.7.9", [kpgen.PortSpec("grpc", 9000, 9000)], endpoints=["192.168.7.21"])
CART = kpgen.ServiceSpec("shop", "cart", "10.96.8.1", [kpgen.PortSpec("http", 80, 8080)], endpoints=["192.168.8.11"])
ON_CP01 = {ip: "cp01" for ip in (A, B, "192.168.7.20", "192.168.7.21", "192.168.8.11")}
LIST_NS = {"/api/v1/namespaces/default/services", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"}
LIST_ALL = {"/api/v1/services", "/apis/discovery.k8s.io/v1/endpointslices"}


def _cluster(scenario: Scenario) -> None:
    node = scenario.node("cp01", kpgen.generate([WEB, EMPTY, API_RULES, CART], kpgen.HELLO_CONFIG))
    scenario.lab.add_pod(node, "web-a", A, ports=[8080])
    scenario.lab.add_pod(node, "web-b", B, ports=[8080])
    scenario.cluster.add_node("aa01", None)  # first by name, but no endpoint of these Services runs there
    for spec in (WEB, EMPTY, API_NOW, CART):
        scenario.cluster.add_objects(kpgen.api_objects(spec, node_of=ON_CP01))
    scenario.cluster.set_proxy_config("")
    assert len(scenario.lab.connect(node, "10.96.7.7", 80, n=5)) == 5
    scenario.snapshot_rules()


def _rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("NAMESPACE"))
    return [ln.split() for ln in lines[head + 1:lines.index("", head)]]


def _saves(scenario: Scenario) -> list[list[str]]:
    return [argv for argv in scenario.cluster.execs() if argv[0].endswith("-save")]


@pytest.mark.lab
@pytest.mark.api
def test_live_audit_of_a_namespace_reads_one_node_once_and_puts_problems_first(scenario: Scenario):
    _cluster(scenario)

    code, out, err = svcpath("--all", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == ExitCode.PROBLEMS_FOUND, err
    lines = out.splitlines()
    assert lines[0] == ("Audit:    namespace default, against the rules of node cp01: the first node by name with a "
                        "ready endpoint (--node NAME for another)")
    assert lines[1].startswith("Rules:    iptables (nf_tables) mode, node cp01, read in pod kube-system/kube-proxy-")
    rows = _rows(out)
    assert [(r[0], r[1]) for r in rows] == [("default", "api"), ("default", "empty"), ("default", "web")]
    assert [r[-2] for r in rows[:2]] == ["error:", "error:"] and rows[2][-1] == "ok"
    assert rows[2][-3:-1] == ["2", "5"]  # web: 2 endpoints, the 5 connections sent
    assert "3 Services, 3 ports, 3 endpoints: 2 errors, 0 warnings, 1 ok" in lines
    # one LIST of each kind in the namespace, the rules read once, nothing else
    assert {r.path for r in scenario.cluster.requests} >= LIST_NS
    assert not {r.path for r in scenario.cluster.requests} & LIST_ALL
    assert _saves(scenario) == [["iptables-save", "-c"]]
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_a_big_live_audit_keeps_its_objects_until_the_command_exits(scenario: Scenario, monkeypatch: pytest.MonkeyPatch):
    """From app.HOLD_FROM Services, the parsed rules, the snapshots and the API objects outlive run():
    the installed command exits (cli._exit_now) without freeing millions of objects one by one after
    its table is out. The next run lets them go."""
    import gc

    from kubectl_svcpath import app

    _cluster(scenario)
    monkeypatch.setattr(app, "HOLD_FROM", 1)
    try:
        code, out, err = svcpath("--all", "-A", "--kubeconfig", str(scenario.kubeconfig()))
        assert code == ExitCode.PROBLEMS_FOUND, err
        assert len(app.KEPT) == 1
        parsed, snapshots, objects = app.KEPT[0]
        assert sorted(s.name for s in snapshots) == ["api", "cart", "empty", "web"] and parsed.rules is not None
        monkeypatch.setattr(app, "HOLD_FROM", 1000)
        code, out, err = svcpath("--all", "-n", "shop", "--kubeconfig", str(scenario.kubeconfig()))
        assert code == ExitCode.OK, err
        assert app.KEPT == []
    finally:
        app.KEPT.clear()
        gc.unfreeze()  # (the big run froze this process's objects: the test process goes on collecting)
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_live_audit_of_all_namespaces_with_problems_only_as_json(scenario: Scenario):
    _cluster(scenario)

    code, out, err = svcpath("--all", "-A", "--problems", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == ExitCode.PROBLEMS_FOUND, err
    doc = json.loads(out)
    assert [(i["service"]["namespace"], i["service"]["name"]) for i in doc["items"]] == [("default", "api"), ("default", "empty")]
    assert doc["totals"] == {"services": 4, "ports": 4, "endpoints": 4, "error": 2, "warning": 0, "ok": 2, "unknown": 0, "unnamed": 0, "portless": 0, "endpointsNotInInput": 0}
    scope = doc["scope"]
    assert (scope["namespace"], scope["node"], scope["proxyMode"], scope["backend"]) == (None, "cp01", "iptables", "nf_tables")
    assert scope["kubeProxyPod"].startswith("kube-system/kube-proxy-") and scope["collectedAt"].endswith("Z")
    assert all(i["node"] == "cp01" for i in doc["items"])
    assert {r.path for r in scenario.cluster.requests} >= LIST_ALL
    assert _saves(scenario) == [["iptables-save", "-c"]]
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_live_audit_converts_the_objects_while_the_rules_are_read(scenario: Scenario, monkeypatch: pytest.MonkeyPatch):
    """The Services and slices are converted, and the one pass's API half made, while the node's
    iptables-save still runs: the fake API server holds the exec's exit status (without which the
    read cannot end) until that work is done. A plugin that waited for the rules first would never
    get there: the wait times out. The table is the same as ever."""
    from kubectl_svcpath import pipeline

    _cluster(scenario)
    prepared = threading.Event()
    late: list[str] = []
    prepare = pipeline.prepare_api_audit

    def prepare_and_say(snapshots: Any) -> Any:
        out = prepare(snapshots)
        prepared.set()
        return out

    def hold_status(argv: list[str]) -> None:
        if argv[0] == "iptables-save" and not prepared.wait(15):
            late.append(" ".join(argv))

    monkeypatch.setattr(pipeline, "prepare_api_audit", prepare_and_say)
    scenario.cluster.before_exec_status = hold_status

    code, out, err = svcpath("--all", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == ExitCode.PROBLEMS_FOUND, err
    assert prepared.is_set() and not late
    assert [(r[1], r[-1]) for r in _rows(out)][2] == ("web", "ok")
    assert "3 Services, 3 ports, 3 endpoints: 2 errors, 0 warnings, 1 ok" in out.splitlines()


@pytest.mark.lab
@pytest.mark.api
def test_live_audit_fits_80_columns_in_a_terminal(scenario: Scenario):
    _cluster(scenario)

    lines = in_tmux(["--all", "-A", "--kubeconfig", str(scenario.kubeconfig())], 80)

    assert all(len(ln) <= 80 for ln in lines), "\n".join(lines)
    assert lines[0].startswith("Audit:    all namespaces, against the rules of node cp01:")
    rows = _rows("\n".join(lines))
    assert [(r[0], r[1]) for r in rows] == [("default", "api"), ("default", "empty"), ("default", "web"), ("shop", "cart")]
    assert "4 Services, 4 ports, 4 endpoints: 2 errors, 0 warnings, 2 ok" in lines


# --- no netns needed: what fails before or instead of the rules ---------------------------------------

def _api_only(api: FakeApiServer) -> None:
    api.cluster.add_node("cp01", None)
    api.cluster.add_objects(kpgen.api_objects(WEB, node_of=ON_CP01))
    api.cluster.set_proxy_config("")


@pytest.mark.api
def test_live_audit_says_why_the_node_was_not_read(api: FakeApiServer, tmp_path):
    _api_only(api)
    api.cluster.faults.exec_forbidden = True
    code, out, err = svcpath("--all", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.FORBIDDEN
    assert one_error(err).startswith("error: node cp01: ") and 'cannot create resource "pods/exec"' in err
    assert out == ""


@pytest.mark.api
def test_live_audit_with_node_reads_that_node(api: FakeApiServer, tmp_path):
    _api_only(api)
    api.cluster.add_node("cp02", None, kube_proxy=False)
    code, _, err = svcpath("--all", "--node", "cp02", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert 'no kube-proxy pod on node "cp02"' in one_error(err)


@pytest.mark.api
def test_live_audit_of_an_empty_namespace_says_so_and_reads_no_node(api: FakeApiServer, tmp_path):
    _api_only(api)
    code, out, err = svcpath("--all", "-n", "shop", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND and out == ""
    assert one_error(err) == 'error: no Service in namespace "shop"'
    assert api.cluster.execs() == []


@pytest.mark.parametrize("args,words", [
    (["--all", "-A", "-n", "shop"], "error: use either -n NAMESPACE or -A (--all-namespaces)"),
    (["web", "-A"], "error: -A (--all-namespaces) goes with --all"),
    (["--all", "--all-nodes"], "error: --all audits every Service against one node's rules"),
    (["--all", "--local"], "error: --all reads one node's rules through the API or from a dump, not --local"),
    (["web", "-l", "app=web"], "error: -l selects Services for the audit: add --all"),
    (["--all", "-l", "app=web", "--rules-file", "nat.txt"], "error: -l selects among the Services the API lists: live --all only"),
])
def test_live_audit_flag_mistakes(args: list[str], words: str):
    code, out, err = svcpath(*args)
    assert code == ExitCode.USAGE and out == ""
    assert one_error(err).startswith(words)


@pytest.mark.lab
@pytest.mark.api
def test_live_audit_with_a_label_selector_lists_only_those_services(scenario: Scenario):
    """kubectl's -l: the Services LIST carries the selector; the header says which Services were audited."""
    _cluster(scenario)
    for name in ("web", "api"):
        scenario.cluster.objects[("Service", "default", name)]["metadata"]["labels"] = {"tier": "front"}

    code, out, err = svcpath("--all", "-l", "tier=front", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == ExitCode.PROBLEMS_FOUND, err
    assert out.splitlines()[0] == ("Audit:    namespace default, Services matching tier=front, against the rules of node "
                                   "cp01: the first node by name with a ready endpoint (--node NAME for another)")
    assert [(r[0], r[1]) for r in _rows(out)] == [("default", "api"), ("default", "web")]
    lists = [r for r in scenario.cluster.requests if r.path == "/api/v1/namespaces/default/services"]
    assert [r.query.get("labelSelector") for r in lists] == [["tier=front"]]
    scenario.assert_read_only()


@pytest.mark.api
def test_live_audit_with_a_selector_nothing_matches_says_so(api: FakeApiServer, tmp_path):
    _api_only(api)
    code, out, err = svcpath("--all", "-l", "tier=none", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND and out == ""
    assert one_error(err) == 'error: no Service matches the label selector "tier=none" in namespace "default"'
    assert "hint: check with: kubectl get services -n default -l 'tier=none'" in err
    assert api.cluster.execs() == []


@pytest.mark.parametrize("args", [["web", "-A"], ["svc/web", "--all-namespaces"]])
def test_one_service_with_a_says_how_to_find_its_namespace(args: list[str]):
    """`kubectl svcpath web -A` (kubectl itself: 'a resource cannot be retrieved by name across all namespaces') said
    only that -A goes with --all; a user looking for web's namespace is told how to find it."""
    code, _, err = svcpath(*args)
    assert code == ExitCode.USAGE
    assert one_error(err) == "error: -A (--all-namespaces) goes with --all: kubectl svcpath --all -A"
    assert hint_of(err) == ("hint: one Service is read in its namespace: kubectl svcpath web -n NAMESPACE; kubectl get "
                            "services -A --field-selector metadata.name=web lists the namespaces that have one")

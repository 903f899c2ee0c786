"""--all-nodes, --nodes, --sample with nodes that cannot be read: the others' reports are printed, each way of
failing is one error line naming its nodes (with one hint), and the exit code is the documented one. No root:
the execs of the nodes that can be read are answered from memory (FakeCluster.replay)."""

from __future__ import annotations

import json

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.lab import kpgen
from tests.live.test_faults import no_lab_hello, only_reads

pytestmark = pytest.mark.api

NODES = ("cp01", "w1", "w2", "w3")


def _cluster(api: FakeApiServer, without_pod: tuple[str, ...] = ()) -> None:
    no_lab_hello(api, nodes=NODES)
    rules = kpgen.generate([kpgen.hello_service()], kpgen.HELLO_CONFIG).encode()
    api.cluster.replay[("", ("iptables-save", "-c"))] = rules  # every node (no namespace): the same rules
    for key in [k for k in api.cluster.objects if k[0] == "Pod" and k[2].startswith("kube-proxy-")]:
        if api.cluster.objects[key]["spec"]["nodeName"] in without_pod:
            del api.cluster.objects[key]


@pytest.mark.parametrize("args", [["--all-nodes"], ["--nodes", "cp01,w1,w2"], ["--sample", "4"]])
def test_a_node_that_cannot_be_read_leaves_the_others_reports_and_exit_7(api: FakeApiServer, tmp_path, args):
    _cluster(api, without_pod=("w1",))
    kc = str(api.write_kubeconfig(tmp_path / "kc"))
    code, out, err = svcpath("hello-service", *args, "--kubeconfig", kc)
    assert code == ExitCode.COLLECT_FAILED == 7, err
    # (every node holds the same rules: one report, the others named in its heading)
    alike = "node w2" if "--nodes" in args else "nodes w2 and w3"
    assert [x for x in out.splitlines() if x.startswith("===")] == [f"=== node cp01 (the same on {alike}) ==="], out
    read = 2 if "--nodes" in args else 3  # (the last line: how the nodes came out; --sample: of how many)
    sampled = " (sampled of 4, across 1 zone)" if "--sample" in args else ""
    assert out.rstrip().splitlines()[-1] == f"Summary:  {read + 1} nodes{sampled}: {read} ok, 1 not read (the error lines on stderr)", out
    lines = err.splitlines()
    assert lines[0] == ('error: no kube-proxy pod on node "w1" (namespace kube-system: no pod labelled '
                        "k8s-app=kube-proxy or component=kube-proxy, no container running kube-proxy)")
    assert lines[1].startswith("hint: ") and "--field-selector spec.nodeName=w1" in lines[1]
    assert len(lines) == 2, err
    code, out, _ = svcpath("hello-service", *args, "--kubeconfig", kc, "-o", "json")
    assert code == 7 and json.loads(out)["errors"] == [{"node": "w1", "exitCode": 4, "message": lines[0].removeprefix("error: ")}]
    only_reads(api)


def test_nodes_failing_alike_are_one_error_line_and_one_hint(api: FakeApiServer, tmp_path):
    """Without leave to exec, --all-nodes printed one error and one equal hint per node (100 nodes: 200 lines)."""
    _cluster(api)
    api.cluster.faults.exec_forbidden = True
    code, out, err = svcpath("hello-service", "--all-nodes", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.FORBIDDEN
    assert err.splitlines() == [
        'error: node cp01: forbidden: cannot exec into pod "kube-proxy-39f34" in namespace "kube-system": pods '
        '"kube-proxy-39f34" is forbidden: User "test" cannot create resource "pods/exec" in API group "" in the '
        'namespace "kube-system" (and alike on nodes w1, w2 and w3)',
        "hint: exec needs `create` on pods/exec in kube-system: kubectl auth can-i create pods/exec -n kube-system; "
        "`kubectl svcpath --print-rbac` prints the minimal Role"]

    api.cluster.faults.exec_forbidden = False
    for key in [k for k in api.cluster.objects if k[0] == "Pod"]:
        del api.cluster.objects[key]
    code, out, err = svcpath("hello-service", "--all-nodes", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    lines = err.splitlines()
    assert lines[0] == ('error: no kube-proxy pod on node "cp01" (namespace kube-system: no pod labelled '
                        "k8s-app=kube-proxy or component=kube-proxy, no container running kube-proxy) "
                        "(and alike on nodes w1, w2 and w3)")
    assert len(lines) == 2 and lines[1].startswith("hint: ")


@pytest.mark.parametrize("args", [["hello-service"], ["--all"]])
def test_without_leave_to_list_nodes_a_service_without_endpoints_names_node(api: FakeApiServer, tmp_path, args):
    """No ready endpoint names a node, so the nodes are listed to choose one: denied, it said only 'forbidden:
    cannot list nodes' and its can-i, not why nor that --node NAME goes without."""
    _cluster(api)
    for key in [k for k in api.cluster.objects if k[0] == "EndpointSlice"]:
        del api.cluster.objects[key]
    api.cluster.faults.forbidden_paths = ["/nodes$"]
    code, out, err = svcpath(*args, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert (code, out) == (ExitCode.FORBIDDEN, "")
    error, hint = err.splitlines()
    assert error.startswith("error: forbidden: cannot list nodes: ") and error.endswith(
        " (to choose a node: no ready endpoint names one)")
    assert hint == ("hint: name the node to read: --node NAME (kube-proxy's nodes: kubectl get pods -n kube-system -l "
                    "k8s-app=kube-proxy -o wide); or kubectl auth can-i list nodes; `kubectl svcpath --print-rbac` prints "
                    "the minimal Role")


@pytest.mark.parametrize("args", [["hello-service", "--all-nodes"], ["--all", "-A", "--node", "w1"]])
def test_a_failed_listing_names_its_node_once(api: FakeApiServer, tmp_path, args):
    """'error: node w1: `iptables-save -c` failed in pod kube-system/kube-proxy-2927b on node w1 (exit 1): …': the
    node twice (the line wrapped at 80 columns for it); and nodes failing so were a line and a hint each."""
    _cluster(api)
    api.cluster.faults.exec_exit = {"iptables-save": (1, "iptables-save: Could not fetch rule set generation id\n")}
    code, out, err = svcpath(*args, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED
    first, hint = err.splitlines()  # every node read fails alike: one line, one hint (were 4 and 4: the hints
    assert first.startswith("error: `iptables-save -c` failed in pod kube-system/kube-proxy-")  # named their pods)
    assert first.count("node ") == 1, first
    if "--all-nodes" in args:
        assert first.endswith("Could not fetch rule set generation id (and alike on nodes w1, w2 and w3)")
    assert hint.startswith("hint: all it prints: kubectl -n kube-system exec kube-proxy-")
    assert hint.endswith(" -c kube-proxy -- iptables-save -c; on the node, `sudo kubectl svcpath SERVICE --local` reads "
                         "the tables without the pod")


def test_the_progress_line_says_the_nodes_are_being_read_before_the_first_is_done(api: FakeApiServer, tmp_path):
    """It said "listing nodes and kube-proxy pods" until a node was done: with slow execs the reads looked stuck
    on a LIST that had long been answered."""
    from kubectl_svcpath import live

    _cluster(api)
    seen: list[str] = []
    req = live.LiveRequest(service="hello-service", namespace=None, kubeconfig=str(api.write_kubeconfig(tmp_path / "kc")),
                           context=None, request_timeout=20.0, node=None, all_nodes=True, max_parallel=2,
                           progress=seen.append)
    live.gather(req)
    at = seen.index("listing nodes and kube-proxy pods")
    assert seen[at + 1] == "[0/4] reading kube-proxy's rules on 4 nodes, 2 at a time", seen
    assert seen[at + 2].startswith("[1/4] node "), seen


def test_an_audit_whose_node_fails_says_it_chose_that_node_and_how_to_read_another(api: FakeApiServer, tmp_path):
    """--all reads one node, chosen by the run: the error said only why that node's listing failed, not that another
    node could be audited instead."""
    _cluster(api)
    api.cluster.faults.exec_exit = {"iptables-save": (1, "iptables-save: Could not fetch rule set generation id\n")}
    kc = str(api.write_kubeconfig(tmp_path / "kc"))
    code, out, err = svcpath("--all", "-A", "--kubeconfig", kc)
    assert (code, out) == (ExitCode.COLLECT_FAILED, "")
    assert err.splitlines()[1] == ("hint: all it prints: kubectl -n kube-system exec kube-proxy-39f34 -c kube-proxy -- "
                                   "iptables-save -c; on the node, `sudo kubectl svcpath SERVICE --local` reads the tables "
                                   "without the pod; the audit read node cp01, the first node by name with a ready endpoint "
                                   "(--node NAME for another)")
    _, _, err = svcpath("--all", "-A", "--node", "w1", "--kubeconfig", kc)  # named: nothing to add
    assert err.splitlines()[1] == ("hint: all it prints: kubectl -n kube-system exec kube-proxy-2927b -c kube-proxy -- "
                                   "iptables-save -c; on the node, `sudo kubectl svcpath SERVICE --local` reads the tables "
                                   "without the pod")


def test_kube_proxy_crash_looping_on_every_node_is_one_line(api: FakeApiServer, tmp_path):
    """A bad kube-proxy configuration rolled out: every node's kube-proxy crash-loops, each restarted a different
    number of times. Each node was a line and a hint of its own (the counts differed); now one, its nodes named."""
    _cluster(api)
    pods = sorted((obj["spec"]["nodeName"], obj) for (kind, _, name), obj in api.cluster.objects.items()
                  if kind == "Pod" and name.startswith("kube-proxy-"))
    for restarts, (_, pod) in enumerate(pods, start=3):
        pod["status"]["containerStatuses"] = [{"name": "kube-proxy", "restartCount": restarts, "ready": False,
                                               "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
    code, out, err = svcpath("hello-service", "--all-nodes", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED
    first, hint = err.splitlines()
    assert first.startswith(f"error: kube-proxy pod kube-system/{pods[0][1]['metadata']['name']} on node cp01: its container "
                            "kube-proxy does not run (CrashLoopBackOff, 3 restarts): cannot exec into it (and alike on nodes ")
    assert hint.startswith("hint: why it stopped: kubectl logs -n kube-system ")
    assert api.cluster.execs() == []

"""The live start-up goes out at once: the reads that do not depend on each other are all in flight
before the API server answers any of them.

The fake API server holds each of those requests until all of them have arrived (a barrier): a
client that waited for one answer before sending the next request would never complete it, and
the test would see the barrier broken, not a slow run.
"""

from __future__ import annotations

import json
import threading

import pytest

from tests.conftest import svcpath
from tests.live.conftest import Scenario, hello_scenario


class Together:
    """Holds the first ``n`` requests until all ``n`` have arrived; later ones pass. Records who came."""

    def __init__(self, n: int) -> None:
        self.barrier = threading.Barrier(n, timeout=15)
        self.lock = threading.Lock()
        self.n, self.held, self.broken = n, [], False

    def __call__(self, what: str) -> None:
        with self.lock:
            if len(self.held) >= self.n:
                return
            self.held.append(what)
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            self.broken = True


@pytest.mark.lab
@pytest.mark.api
@pytest.mark.parametrize("named", [True, False])
def test_service_slices_pods_and_config_are_read_at_once(scenario: Scenario, named: bool):
    hello_scenario(scenario)
    rest = Together(5 if named else 3)
    scenario.cluster.before_rest = lambda rec: rest(rec.path)

    code, out, err = svcpath("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()),
                             *(["--node", "cp01"] if named else []))

    assert code == 0, err
    assert json.loads(out)["node"] == "cp01"
    assert not rest.broken
    first = {"/api/v1/namespaces/default/services/hello-service", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
             "/api/v1/namespaces/kube-system/configmaps/kube-proxy"}
    if named:  # the node is known from the start: its pods and its Node object too
        first |= {"/api/v1/namespaces/kube-system/pods", "/api/v1/nodes/cp01"}
    assert set(rest.held) == first


@pytest.mark.lab
@pytest.mark.api
def test_with_all_nodes_the_node_list_and_every_kube_proxy_pod_are_read_with_the_service(scenario: Scenario):
    hello_scenario(scenario)
    rest = Together(5)
    scenario.cluster.before_rest = lambda rec: rest(rec.path)

    code, out, err = svcpath("hello-service", "-o", "json", "--all-nodes", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == 0, err
    assert [i["node"] for i in json.loads(out)["items"]] == ["cp01"]  # (the only node: a list of one, docs/json-contract.md)
    assert not rest.broken
    assert set(rest.held) == {"/api/v1/namespaces/default/services/hello-service",
                              "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices",
                              "/api/v1/namespaces/kube-system/configmaps/kube-proxy", "/api/v1/namespaces/kube-system/pods",
                              "/api/v1/nodes"}
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
@pytest.mark.parametrize("named", [True, False])
def test_the_listings_start_as_soon_as_the_pod_is_known_and_run_together(scenario: Scenario, named: bool):
    """The Node GET and `iptables-save -c` are in flight at once: the exec does not wait for the Node (nor
    for the caller to ask for the node's result). No `iptables --version`: the save's header tells it."""
    hello_scenario(scenario)
    together = Together(2)
    scenario.cluster.before_rest = lambda rec: together(rec.path) if rec.path == "/api/v1/nodes/cp01" else None
    scenario.cluster.before_exec = lambda argv: together(" ".join(argv))

    code, out, err = svcpath("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()),
                             *(["--node", "cp01"] if named else []))

    assert code == 0, err
    assert json.loads(out)["node"] == "cp01"
    assert {tuple(r.argv): r.exec_rc for r in scenario.cluster.requests if r.argv} == {
        ("iptables-save", "-c"): 0}
    assert not together.broken
    assert set(together.held) == {"/api/v1/nodes/cp01", "iptables-save -c"}


@pytest.mark.lab
@pytest.mark.api
def test_the_rules_are_scanned_while_the_exec_still_runs(scenario: Scenario, monkeypatch: pytest.MonkeyPatch):
    """The node's iptables-save is scanned as it arrives: the fake API server holds the exec's exit
    status (without which the read cannot end) until the scan has taken whole tables of the output
    (here all of it: the hello-service dump fits one frame). A scan that waited for the end of the
    exec would never get there: the barrier breaks."""
    from kubectl_svcpath.modes.iptables import save_feed

    hello_scenario(scenario)
    scanned_to_the_end = threading.Event()
    broken: list[str] = []
    fed = save_feed.SaveFeed.feed

    def feed(self: save_feed.SaveFeed, piece: str) -> None:
        fed(self, piece)
        if self.sections and all(s.end >= 0 for s in self.sections):
            scanned_to_the_end.set()

    def hold_status(argv: list[str]) -> None:
        if argv[0] == "iptables-save" and not scanned_to_the_end.wait(15):
            broken.append(" ".join(argv))

    monkeypatch.setattr(save_feed.SaveFeed, "feed", feed)
    scenario.cluster.before_exec_status = hold_status

    code, out, err = svcpath("hello-service", "-o", "json", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == 0, err
    assert not broken
    doc = json.loads(out)
    assert doc["node"] == "cp01" and doc["ports"]

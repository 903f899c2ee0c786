"""Fixtures for the live-cluster tests: netns lab nodes behind a strict fake kube-apiserver.

- ``lab``: a fresh tests.lab.netns.Lab (skips without root; under CI=true that is a failure);
- ``api``: a FakeCluster served over HTTPS (a token or the ``client_cert`` authenticates); at
  teardown the test fails if anything but discovery, GET/LIST and allow-listed execs reached it
  (``violations``);
- ``scenario``: the two together, with helpers to add nodes, Services and kubeconfigs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubectl_svcpath.kube.exec import is_allowed
from tests.fakeapi.server import Cert, FakeApiServer, FakeCluster, make_cert
from tests.lab import kpgen
from tests.lab.netns import Lab, Node, skip_or_fail, sweep_stale, unavailable_reason

_reason: list[str | None] = []


def _lab_reason() -> str | None:
    if not _reason:
        _reason.append(unavailable_reason())
        if _reason[0] is None:
            sweep_stale()
    return _reason[0]


@pytest.fixture(scope="session")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    return make_cert(tmp_path_factory.mktemp("fakeapi-cert"))


@pytest.fixture(scope="session")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """A client certificate for FakeCluster.cert_user; the ``api`` server trusts it (tokens work too)."""
    return make_cert(tmp_path_factory.mktemp("fakeapi-client-cert"), client=FakeCluster().cert_user)


@pytest.fixture
def lab():
    reason = _lab_reason()
    if reason:
        skip_or_fail(reason)
    lab = Lab()
    try:
        yield lab
    finally:
        lab.cleanup()


@pytest.fixture
def api(cert: Cert, client_cert: Cert):
    cluster = FakeCluster()
    server = FakeApiServer(cluster, cert, client_ca=client_cert).start()
    try:
        yield server
    finally:
        server.stop()
    assert not cluster.violations, f"the plugin did something the read-only contract forbids: {cluster.violations}"


@dataclass
class Scenario:
    """A lab whose nodes are registered with the fake API server."""

    lab: Lab
    api: FakeApiServer
    tmp: Path
    nodes: dict[str, Node] = field(default_factory=dict)
    before: dict[str, str] = field(default_factory=dict)

    @property
    def cluster(self) -> FakeCluster:
        return self.api.cluster

    def node(self, name: str, rules: str | None = None, backend: str = "nft", **pod_kwargs) -> Node:
        node = self.lab.add_node(name)
        if rules is not None:
            self.lab.load_iptables(node, rules, backend=backend)
        self.cluster.add_node(name, node.ns, backend=backend, **pod_kwargs)
        self.nodes[name] = node
        return node

    def kubeconfig(self, name: str = "kubeconfig", **kwargs) -> Path:
        return self.api.write_kubeconfig(self.tmp / name, **kwargs)

    def snapshot_rules(self) -> None:
        """Remember every node's ruleset (counters stripped) to prove later that nothing changed."""
        self.before = {n: self.lab.fingerprint(node) for n, node in self.nodes.items()}

    def assert_read_only(self, expected_execs: set[tuple[str, ...]] | None = None) -> None:
        reqs = self.cluster.requests
        assert reqs, "no request reached the fake API server"
        assert {r.method for r in reqs} == {"GET"}, [f"{r.method} {r.path}" for r in reqs if r.method != "GET"]
        for argv in self.cluster.execs():
            assert is_allowed(argv), f"exec outside the allow-list: {argv}"
            if expected_execs is not None:
                assert tuple(argv) in expected_execs, f"unexpected exec {argv}"
        assert not self.cluster.violations, self.cluster.violations
        for name, fp in self.before.items():
            assert self.lab.fingerprint(self.nodes[name]) == fp, f"rules on node {name} changed"


@pytest.fixture
def scenario(lab: Lab, api: FakeApiServer, tmp_path: Path) -> Scenario:
    return Scenario(lab, api, tmp_path)


def hello_scenario(sc: Scenario, backend: str = "nft") -> Node:
    """shared/examples/hello-service, live: node cp01 with the products pod and kube-proxy's rules."""
    spec = kpgen.hello_service()
    node = sc.node("cp01", kpgen.generate([spec], kpgen.HELLO_CONFIG), backend=backend)
    sc.lab.add_pod(node, "products", "192.168.189.15", ports=[9090, 9191])
    sc.cluster.add_objects(kpgen.api_objects(spec, node_of={"192.168.189.15": "cp01"}))
    sc.cluster.set_proxy_config("")
    return node


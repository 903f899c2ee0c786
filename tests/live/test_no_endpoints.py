"""A Service without endpoints, live: the outage users most often meet gets its full report.

No endpoint names a node, so none is the Service's own: the first Ready node by name is read, the
report says so in a note (the --all header says it too), and the verdict is kube-proxy's REJECT with
the no-endpoints finding (exit 3). It was a usage error (exit 2) that never said "no endpoints".
"""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario

pytestmark = [pytest.mark.lab, pytest.mark.api]


def test_a_service_without_endpoints_is_read_on_the_first_ready_node(scenario: Scenario) -> None:
    idle = kpgen.ServiceSpec("shop", "idle", "10.96.0.30", [kpgen.PortSpec("http", 80, 8080)], endpoints=[])
    rules = kpgen.generate([idle], kpgen.ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True))
    for name in ("w2", "w1"):
        scenario.node(name, rules)
    scenario.cluster.add_objects(kpgen.api_objects(idle))
    scenario.cluster.set_proxy_config("")
    scenario.snapshot_rules()
    kc = str(scenario.kubeconfig())

    code, out, err = svcpath("idle", "-n", "shop", "--kubeconfig", kc)

    assert code == ExitCode.PROBLEMS_FOUND, err
    assert out.startswith("http 80/TCP → REJECT (no endpoints), 0 pkts — FAIL: no-endpoints"), out
    assert "Rules:    iptables (nf_tables) mode, node w1, read in pod" in out
    assert "Note:     node w1 is the first Ready node by name: no ready endpoint of the Service is on a known node" in out

    code, out, err = svcpath("--all", "-n", "shop", "--kubeconfig", kc, "-o", "wide")

    assert code == ExitCode.PROBLEMS_FOUND, err
    assert out.startswith("Audit:    namespace shop, against the rules of node w1: the first Ready node by name: "
                          "no Service here has a ready endpoint on a known node"), out
    assert any(ln.split()[:2] == ["shop", "idle"] and ln.endswith("error: no-endpoints") for ln in out.splitlines()), out
    scenario.assert_read_only()

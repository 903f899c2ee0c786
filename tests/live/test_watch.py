"""Issue 10, traffic right now: real connections between two --watch samples, counted per endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.lab import kpgen
from tests.live.conftest import Scenario

WEB = kpgen.ServiceSpec("default", "web", "10.96.7.7", [kpgen.PortSpec("http", 80, 8080)],
                        endpoints=["192.168.7.11", "192.168.7.12"])


@pytest.mark.lab
@pytest.mark.api
def test_watch_counts_the_connections_sent_between_two_samples(scenario: Scenario):
    node = scenario.node("cp01", kpgen.generate([WEB], kpgen.HELLO_CONFIG))
    scenario.lab.add_pod(node, "web-a", "192.168.7.11", ports=[8080])
    scenario.lab.add_pod(node, "web-b", "192.168.7.12", ports=[8080])
    scenario.cluster.add_objects(kpgen.api_objects(WEB, node_of={"192.168.7.11": "cp01", "192.168.7.12": "cp01"}))
    scenario.cluster.set_proxy_config("")
    scenario.lab.connect(node, "10.96.7.7", 80, n=4)  # traffic before the watch starts: not in the deltas
    exe = Path(sys.executable).parent / "kubectl-svcpath"
    proc = subprocess.Popen([str(exe), "web", "--kubeconfig", str(scenario.kubeconfig()), "--watch", "--samples", "2",
                             "--interval", "3s", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not [r for r in scenario.cluster.requests if r.argv and r.argv[0].startswith("iptables-save") and r.exec_rc is not None]:
            assert time.monotonic() < deadline and proc.poll() is None, "the first sample was never taken"
            time.sleep(0.05)
        answered = scenario.lab.connect(node, "10.96.7.7", 80, n=30)  # between sample 1 and sample 2
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    doc = json.loads(out.strip().splitlines()[-1])
    per_pod = Counter(a.split()[1].split(":")[0] for a in answered)
    assert sum(per_pod.values()) == 30
    (port,) = doc["traffic"]["ports"]
    assert {e["hop"]: e["packets"] for e in port["endpoints"]} == {
        "192.168.7.11:8080": per_pod["192.168.7.11"], "192.168.7.12:8080": per_pod["192.168.7.12"]}
    assert [(e["hop"], e["packets"]) for e in port["entries"]] == [("clusterIP 10.96.7.7:80", 30)]
    # the interval is between the two reads of the rules (their collectedAt), ~3s give or take the exec times
    seconds = doc["traffic"]["seconds"]
    assert 0.5 < seconds < 10
    assert port["entries"][0]["packetsPerSecond"] == round(30 / seconds, 4)
    assert {round(e["programmed"], 2) for e in port["endpoints"]} == {0.5}
    assert abs(sum(e["observed"] for e in port["endpoints"]) - 1) < 1e-6
    assert all(s["collectedAt"].endswith("Z") for s in doc["sources"])
    scenario.assert_read_only()

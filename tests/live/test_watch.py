"""Issue 10, traffic right now: real connections between two --watch samples, counted per endpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario
from tests.live.test_faults import no_lab_hello, one_error

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


# --- `--watch [INTERVAL]`: the word after --watch is the interval only when it is a duration ---------

@pytest.mark.api
@pytest.mark.parametrize("args", [
    ["--watch", "hello-service"],  # a Service name is not a duration: it stays the Service
    ["--watch", "5s", "hello-service"],
    ["--watch=500ms", "hello-service"],
    ["hello-service", "-w", "1.5s"],
    ["-w", "hello-service", "--interval", "3s"],
])
def test_watch_takes_a_duration_and_leaves_the_service(api, tmp_path, args: list[str]):
    """The node has no namespace, so the first sample fails after the reads: the API view names the
    Service that was read, and the watch stops with the exec failure's code, not a usage error."""
    no_lab_hello(api, kube_proxy=False)
    code, out, err = svcpath(*args, "--samples", "2", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND, err
    assert 'no kube-proxy pod on node "cp01"' in one_error(err)
    assert out.splitlines()[0].startswith("Service:  default/hello-service  type NodePort")


@pytest.mark.parametrize("args,words", [
    (["--watch=soon", "web"], 'error: invalid --watch "soon": use a duration such as 2s or 500ms'),
    (["--watch", "5s", "--interval", "3s", "web"], "error: the --watch interval is given twice (--watch 5s and --interval 3s)"),
    (["web", "--interval=1s", "-w", "2s"], "error: the --watch interval is given twice (--interval=1s and -w 2s)"),
    (["--watch", "0", "web"], "error: the --watch interval must be more than 0"),
    (["--watch", "5s"], "error: name a Service"),  # the duration is the interval, not a Service called 5s
])
def test_watch_interval_mistakes_are_usage_errors(args: list[str], words: str):
    code, out, err = svcpath(*args)
    assert code == ExitCode.USAGE
    assert one_error(err).startswith(words)
    assert out == ""


def test_help_teaches_the_optional_interval():
    code, out, _ = svcpath("--help")
    assert code == 0
    assert "--watch [INTERVAL]" in out and "--watch 5s" in out and "--watch=500ms" in out

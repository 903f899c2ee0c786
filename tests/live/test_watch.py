"""Issue 10, traffic right now: real connections between two --watch samples, counted per endpoint."""

from __future__ import annotations

import json
import re
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


# --- a rules rewrite between two live samples; --watch --local with real traffic ------------------

WEB_SPN = "default/web:http"
A, B = "192.168.7.11", "192.168.7.12"


def _traffic_rows(out: str) -> dict[str, list[str]]:
    """The rows of the traffic table a --watch interval prints: HOP -> [PKTS, PKTS/S, BYTES, ...]."""
    lines = out[out.index("\nTraffic "):].splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.split()[:3] == ["PORT", "HOP", "PKTS"])
    rows: dict[str, list[str]] = {}
    for ln in lines[head + 1:]:
        if not ln.strip():
            break
        words = ln.replace("→ ", "").split()
        if words[0] == "http":
            words = words[2:]  # "http 80/TCP" labels the port's first row
        rows[words[0] if words[0] != "clusterIP" else " ".join(words[:2])] = words[1:] if words[0] != "clusterIP" else words[2:]
    return rows


def _rewrite_chain(scenario: Scenario, node, chain: str) -> None:
    """What kube-proxy's partial sync does: iptables-restore --noflush declaring the chain (which
    empties it and zeroes its counters) and writing its rules again."""
    rules = [ln.split("] ", 1)[1] for ln in scenario.lab.save(node, table="nat").splitlines()
             if ln.startswith("[") and ln.split("] ", 1)[1].startswith(f"-A {chain} ")]
    assert rules, f"{chain} not in the node's nat table"
    scenario.lab.load_iptables(node, "\n".join(["*nat", f":{chain} - [0:0]", *rules, "COMMIT", ""]),
                               backend=node.backend or "nft", noflush=True)


@pytest.mark.lab
@pytest.mark.api
def test_a_chain_rewritten_between_two_live_samples_is_a_reset_not_a_negative_number(scenario: Scenario):
    node = scenario.node("cp01", kpgen.generate([WEB], kpgen.HELLO_CONFIG))
    scenario.lab.add_pod(node, "web-a", A, ports=[8080])
    scenario.lab.add_pod(node, "web-b", B, ports=[8080])
    scenario.cluster.add_objects(kpgen.api_objects(WEB, node_of={A: "cp01", B: "cp01"}))
    scenario.cluster.set_proxy_config("")
    before: list[str] = []
    while not any(A in a for a in before):  # endpoint a must have counted something for its counter to fall
        before += scenario.lab.connect(node, "10.96.7.7", 80, n=6)
        assert len(before) < 60, before
    later: list[str] = []
    saves: list[list[str]] = []

    def between_the_samples(argv: list[str]) -> None:  # runs in the API server, before the command
        if argv[0] != "iptables-save":
            return
        saves.append(argv)
        if len(saves) == 2:  # sample 2 is about to be read: 8 connections, then a's chain is rewritten
            later.extend(scenario.lab.connect(node, "10.96.7.7", 80, n=8))
            _rewrite_chain(scenario, node, kpgen.endpoint_chain(WEB_SPN, "TCP", A, 8080))

    scenario.cluster.before_exec = between_the_samples
    code, out, err = svcpath("web", "--watch", "500ms", "--samples", "2", "--kubeconfig", str(scenario.kubeconfig()))

    assert code == 0, err
    assert len(saves) == 2 and len(later) == 8
    assert "watching: sample 1 at " in out and "the next in 0.5s (Ctrl-C to stop)" in out
    rows = _traffic_rows(out)
    assert rows["clusterIP 10.96.7.7:80"][0] == "8"  # the entry rule was not rewritten: its delta is exact
    assert rows[f"{A}:8080"][:3] == ["reset", "reset", "reset"]  # a's counter fell to 0: unknown, not negative
    assert rows[f"{B}:8080"][0] == str(sum(B in a for a in later))  # b's chain kept counting
    traffic = out[out.index("\nTraffic "):]
    assert "1 counter went backwards between the samples: kube-proxy rewrote those chains" in traffic
    assert not re.search(r"(?<![\w.:/-])-\d", traffic), traffic  # no negative number anywhere
    scenario.assert_read_only()


@pytest.mark.lab
def test_watch_local_counts_the_connections_sent_between_two_samples(lab, tmp_path: Path):
    """On the node itself: `kubectl svcpath web --local --watch 3s --samples 2` in the node's namespace,
    30 new connections between the samples; each endpoint's delta is the connections it answered."""
    node = lab.add_node("cp01")
    lab.add_pod(node, "web-a", A, ports=[8080])
    lab.add_pod(node, "web-b", B, ports=[8080])
    lab.load_iptables(node, kpgen.generate([WEB], kpgen.HELLO_CONFIG), backend="nft")
    manifest = tmp_path / "web.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                    "items": kpgen.api_objects(WEB, node_of={A: "cp01", B: "cp01"})}))
    lab.connect(node, "10.96.7.7", 80, n=5)  # before the watch: not in the deltas
    exe = Path(sys.executable).parent / "kubectl-svcpath"
    proc = subprocess.Popen(["ip", "netns", "exec", node.ns, str(exe), "web", "--local", "--manifest", str(manifest),
                             "--watch", "3s", "--samples", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = ""
        while not first.endswith("(Ctrl-C to stop)\n"):  # sample 1 is printed: its rules were read
            line = proc.stdout.readline()
            assert line, f"the watch ended before its first sample: {proc.stderr.read() if proc.stderr else ''}"
            first += line
        answered = lab.connect(node, "10.96.7.7", 80, n=30)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "the next in 3s" in first
    per_pod = Counter(a.split()[1].split(":")[0] for a in answered)
    assert sum(per_pod.values()) == 30
    rows = _traffic_rows("\n" + rest)
    # the second read comes a whole interval after the first one read the rules (the first read also
    # loaded the code: timed from its start, the interval came out shorter than asked)
    span = re.search(r"^Traffic \S+ → \S+ \(([\d.]+)s\):$", rest, re.M)
    assert span is not None and float(span.group(1)) >= 3.0, rest
    assert rows["clusterIP 10.96.7.7:80"][0] == "30"
    assert {hop: row[0] for hop, row in rows.items() if not hop.startswith("clusterIP")} == {
        f"{A}:8080": str(per_pod[A]), f"{B}:8080": str(per_pod[B])}
    # the observed split beside the programmed 50 %
    assert [row[-1] for hop, row in rows.items() if not hop.startswith("clusterIP")] == ["50%", "50%"]

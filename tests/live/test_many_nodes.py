"""Many nodes, live: --all-nodes with any --max-parallel gives one report, --nodes and --sample read a
subset, and a node's rules are read only when the caller is ready for them (memory stays bounded).

Nine API nodes in three zones share three lab namespaces (the light lab: an exec runs in the
namespace its node names), one of which programs a stale endpoint, so the report has a finding to agree on.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_svcpath import live
from tests.conftest import svcpath
from tests.lab import kpgen
from tests.live.conftest import Scenario

E1, E2, STALE = "10.244.1.5", "10.244.2.6", "10.244.3.9"
WEB = kpgen.ServiceSpec("default", "web", "10.96.0.50", [kpgen.PortSpec("http", 80, 8080)], endpoints=[E1, E2])
NODES = [f"w{i:02d}" for i in range(9)]
ZONE = {n: f"zone-{'abc'[i % 3]}" for i, n in enumerate(NODES)}


def _cluster(sc: Scenario) -> None:
    """w00..w08 in zones a, b, c; the namespace of w02, w05, w08 (zone-c) programs a stale endpoint."""
    spaces = [sc.lab.add_node(f"ns{i}") for i in range(3)]
    for i, ns in enumerate(spaces):
        spec = dataclasses.replace(WEB, endpoints=[E1, E2, STALE]) if i == 2 else WEB
        sc.lab.load_iptables(ns, kpgen.generate([spec]), backend="nft")
    for i, name in enumerate(NODES):
        sc.cluster.add_node(name, spaces[i % 3].ns)
        sc.cluster.objects[("Node", "", name)]["metadata"]["labels"]["topology.kubernetes.io/zone"] = ZONE[name]
    sc.cluster.add_objects(kpgen.api_objects(WEB, node_of={E1: "w00", E2: "w01"}))
    sc.cluster.set_proxy_config("")


def _nodes_execed(sc: Scenario) -> set[str]:
    pod_node = {name: obj["spec"]["nodeName"] for (kind, _, name), obj in sc.cluster.objects.items() if kind == "Pod"}
    return {pod_node[r.path.split("/")[-2]] for r in sc.cluster.requests if r.argv is not None}


def _doc(*args: str) -> dict:
    code, out, err = svcpath("web", "-o", "json", *args)
    assert code == 3, err  # the stale endpoint is an error finding
    doc = json.loads(out)
    for item in doc["items"]:  # when each node was read differs from run to run
        for source in item["sources"]:
            source.pop("collectedAt")
    return doc


@pytest.mark.lab
@pytest.mark.api
def test_all_nodes_one_at_a_time_and_the_default_give_the_same_report(scenario: Scenario):
    _cluster(scenario)
    kc = str(scenario.kubeconfig())

    one = _doc("--all-nodes", "--max-parallel", "1", "--kubeconfig", kc)
    default = _doc("--all-nodes", "--kubeconfig", kc)

    assert one == default
    assert [item["node"] for item in one["items"]] == NODES and one["errors"] == []
    (drift,) = [f for f in one["findings"] if f["code"] == "node-drift"]
    assert all(n in drift["message"] for n in ("w02", "w05", "w08")) and "w00" not in drift["message"]
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_nodes_by_name_or_selector_and_a_sample_across_zones_read_only_those(scenario: Scenario):
    _cluster(scenario)
    kc = str(scenario.kubeconfig())

    named = _doc("--nodes", "w01,w05", "--kubeconfig", kc)
    assert [item["node"] for item in named["items"]] == ["w01", "w05"]
    assert _nodes_execed(scenario) == {"w01", "w05"}

    zone_c = _doc("--nodes", "topology.kubernetes.io/zone=zone-c", "--kubeconfig", kc)
    assert [item["node"] for item in zone_c["items"]] == ["w02", "w05", "w08"]
    assert not [f for f in zone_c["findings"] if f["code"] == "node-drift"]  # they agree with each other

    code, out, err = svcpath("web", "-o", "json", "--sample", "3", "--kubeconfig", kc)
    assert sorted(ZONE[item["node"]] for item in json.loads(out)["items"]) == ["zone-a", "zone-b", "zone-c"]
    assert json.loads(out)["sampled"] == {"of": len(ZONE), "zones": 3}
    code, out, err = svcpath("web", "--sample", "3", "--kubeconfig", kc)  # (the text says of how many)
    assert out.rstrip().splitlines()[-1].startswith(f"Summary:  3 nodes (sampled of {len(ZONE)}, across 3 zones): "), out

    code, out, err = svcpath("web", "--nodes", "w01,nosuch", "--kubeconfig", kc)
    assert (code, out) == (4, "") and 'node "nosuch" not found' in err
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_a_node_is_read_only_when_the_caller_takes_the_one_before(scenario: Scenario):
    _cluster(scenario)
    req = live.LiveRequest("web", None, str(scenario.kubeconfig()), None, 20.0, None, True, max_parallel=1)

    with live.open_run(req) as run:
        first = next(run.results)
        read = _nodes_execed(scenario)  # the first node, and at most the one started when it was taken
        assert first.node in read and len(read) <= 2
        rest = list(run.results)

    assert sorted([first.node] + [r.node for r in rest]) == NODES
    assert all(r.error is None and r.collection is not None for r in [first, *rest])
    # many nodes keep the CPU busy: each dump is scanned whole, not piece by piece while it arrives
    assert all(d.feed is None and d.format == "iptables-save" for r in [first, *rest] for d in r.collection.dumps)
    assert _nodes_execed(scenario) == set(NODES)


@pytest.mark.lab
@pytest.mark.api
def test_when_nodes_rules_are_big_fewer_nodes_are_read_at_once(scenario: Scenario, monkeypatch: pytest.MonkeyPatch):
    """The first wave starts at once; after it, a node starts only while the largest node's rules seen so far,
    times the nodes being read, stay within HELD_BYTES: here room for one node's rules, so one at a time."""
    _cluster(scenario)
    monkeypatch.setattr(live, "HELD_BYTES", 1)
    req = live.LiveRequest("web", None, str(scenario.kubeconfig()), None, 20.0, None, True)
    assert req.max_parallel == 16

    with live.open_run(req) as run:
        taken = []
        for result in run.results:
            taken.append(result)
            read = _nodes_execed(scenario)
            assert len(read) <= max(live.FIRST_WAVE, len(taken) + 1), (len(taken), sorted(read))

    assert sorted(r.node for r in taken) == NODES and all(r.error is None for r in taken)
    scenario.assert_read_only()


@pytest.mark.lab
@pytest.mark.api
def test_on_a_terminal_a_progress_line_counts_the_nodes_and_is_cleared(scenario: Scenario):
    """The installed command with its stderr on a terminal (a pty): one status line, rewritten in place
    ("\\r" + erase line) as each node is read, and erased before the answer; none into a pipe."""
    _cluster(scenario)
    exe = Path(sys.executable).parent / "kubectl-svcpath"
    argv = [str(exe), "web", "-o", "json", "--all-nodes", "--max-parallel", "2", "--kubeconfig", str(scenario.kubeconfig())]
    master, slave = os.openpty()
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=slave, timeout=60)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # (EIO: the pty's other end is closed and drained)
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 3, seen
    assert [item["node"] for item in json.loads(proc.stdout)["items"]] == NODES
    shown = seen.decode()
    counts = re.findall(r"\r\x1b\[K\[(\d)/9\] node (w0\d): ok", shown)
    assert [int(done) for done, _ in counts] == list(range(1, 10)) and sorted(n for _, n in counts) == NODES
    assert shown.endswith("\r\x1b[K") and "\n" not in shown  # one line, rewritten, cleared at the end
    piped = subprocess.run(argv, capture_output=True, timeout=60)
    assert piped.returncode == 3 and piped.stderr == b""


@pytest.mark.lab
@pytest.mark.api
def test_every_nodes_exec_carries_the_client_certificate(scenario: Scenario, client_cert, tmp_path):
    """The execs after a run's first reuse its TLS context (kube/transport.py): each still presents the
    kubeconfig's client certificate, as the reads do, or the API server would refuse it."""
    _cluster(scenario)
    cert_data = {k: base64.b64encode(p.read_bytes()).decode()
                 for k, p in (("client-certificate-data", client_cert.cert), ("client-key-data", client_cert.key))}
    kc = str(scenario.api.write_kubeconfig(tmp_path / "kc-cert", user=cert_data))

    doc = _doc("--all-nodes", "--kubeconfig", kc)

    assert [item["node"] for item in doc["items"]] == NODES and doc["errors"] == []
    execs = [r for r in scenario.cluster.requests if r.argv is not None]
    assert len(execs) == len(NODES) and {r.status for r in execs} == {101}
    assert {r.credential for r in scenario.cluster.requests} == {f"cert:{scenario.cluster.cert_user}"}
    scenario.assert_read_only()
